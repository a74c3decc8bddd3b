/**
 * The unit tier's DuckDB set-up: orders-etl's activities on a temporary data directory, with
 * every log line kept, and the checks its tests make of what they wrote (Parquet read back with
 * DuckDB, FileRefs against the bytes, no leftovers).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import { DuckDBInstance, type Json } from '@duckdb/node-api';
import pino from 'pino';
import { createOrdersEtlTasks, type FileRef, type StagedExtract } from '../../workflows/dags/orders-etl/tasks';
import { numberedCsvSql } from '../../src/data/csv-file';
import assert from './assert';
import { tempDir } from './platform';

export const HEADER = 'order_id,customer_id,order_date,amount,status';
export const REJECTS_HEADER = 'source_line,reason,order_id,customer_id,order_date,amount,status,raw';

/** A Parquet file's columns (name and DuckDB type) and rows in source_line order, BIGINTs as numbers. */
export async function readParquet(file: string): Promise<{ schema: string[][]; rows: Record<string, Json>[] }> {
  return readRows('SELECT * FROM read_parquet($1) ORDER BY source_line', file);
}

/** extractOrders' staged numbered CSV as transformOrders reads it (by the layout its reference gives). */
export async function readStaged(file: string, ref: StagedExtract): Promise<{ schema: string[][]; rows: Record<string, Json>[] }> {
  const layout = { fields: ref.fields ?? 5, positions: ref.positions ?? [0, 1, 2, 3, 4] };
  return readRows(`SELECT * FROM (${numberedCsvSql(layout, ['order_id', 'customer_id', 'order_date', 'amount', 'status'])}) ORDER BY source_line`, file);
}

async function readRows(sql: string, file: string): Promise<{ schema: string[][]; rows: Record<string, Json>[] }> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql, [file]);
    const types = reader.columnTypes().map(String);
    const names = reader.columnNames();
    const rows = reader
      .getRowObjectsJson()
      .map((row) => Object.fromEntries(names.map((n, i) => [n, types[i] === 'BIGINT' && row[n] !== null ? Number(row[n]) : row[n]])));
    return { schema: names.map((n, i) => [n, types[i]]), rows };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export async function query(sql: string, params: string[] = []): Promise<Record<string, Json>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql, params)).getRowObjectsJson();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export async function sha256Of(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

export const STAGED_SCHEMA = [
  ['source_line', 'BIGINT'],
  ['order_id', 'VARCHAR'],
  ['customer_id', 'VARCHAR'],
  ['order_date', 'VARCHAR'],
  ['amount', 'VARCHAR'],
  ['status', 'VARCHAR'],
  ['malformed_reason', 'VARCHAR'],
  ['malformed_raw', 'VARCHAR'],
];
export const LOADED_SCHEMA = [
  ['order_id', 'VARCHAR'],
  ['customer_id', 'VARCHAR'],
  ['order_date', 'VARCHAR'],
  ['amount', 'DOUBLE'],
  ['status', 'VARCHAR'],
  ['source_line', 'BIGINT'],
];

/** A file's activities on a fresh temporary data directory, removed at the end. */
export function duckdbDataDir() {
  let dataDir = '';
  let acts: ReturnType<typeof createOrdersEtlTasks> | undefined;
  /** Every log line the activities wrote, as pino JSON. */
  const logs: { msg: string; [key: string]: unknown }[] = [];
  beforeAll(async () => {
    dataDir = await tempDir('baton-duckdb-');
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
    acts = createOrdersEtlTasks({ logger, config: { dataDir } });
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  const rawFile = (startDate: string) => path.join(dataDir, 'raw', `orders_${startDate}.csv`);

  /** Every file under the data directory, relative, sorted. */
  async function allFiles(): Promise<string[]> {
    const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dataDir, path.join(e.parentPath, e.name)))
      .sort();
  }

  return {
    get dataDir() {
      return dataDir;
    },
    get acts() {
      if (!acts) throw new Error('the activities are made in beforeAll');
      return acts;
    },
    logs,
    rawFile,
    async writeRaw(startDate: string, body: string | Buffer): Promise<void> {
      await mkdir(path.join(dataDir, 'raw'), { recursive: true });
      await writeFile(rawFile(startDate), body);
    },
    /** A FileRef tells the truth: the file is there, with these bytes and this hash. */
    async assertRef(ref: FileRef): Promise<string> {
      const file = path.join(dataDir, ref.path);
      assert.equal((await stat(file)).size, ref.bytes, `${ref.path} bytes`);
      assert.equal(await sha256Of(file), ref.sha256, `${ref.path} sha256`);
      return file;
    },
    allFiles,
    /** No temp file and no scratch space is left anywhere. */
    async assertNoLeftovers(): Promise<void> {
      const files = await allFiles();
      assert.deepEqual(
        files.filter((f) => f.endsWith('.tmp') || f.startsWith(path.join('staging', '.work'))),
        [],
      );
      const work = await readdir(path.join(dataDir, 'staging', '.work')).catch(() => []);
      assert.deepEqual(work, []);
    },
  };
}
