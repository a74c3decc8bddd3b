/**
 * Scenario 11: the CSV reader alone, in this process, on the orders files the pipelines read
 * (1M rows; 0.1M in the quick run), clean and with 1% bad rows: MB/s per core of CPU it uses,
 * reading only (every record split into fields), writing the numbered CSV, and as orders-etl's
 * extract numbers a plain file (line by line, both files here being plain). The floor is
 * DuckDB's `read_csv` of the same file, every column read, on one thread and on two (its CPU
 * counted as this process's, all threads).
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readCsv } from '../../src/data/csv';
import { writeNumberedCsv } from '../../src/data/csv-file';
import { FLOW_CONTRACT } from '../../workflows/dags/orders-etl/schema';
import { generateOrders } from '../../scripts/sample-orders';
import { median, spread, type BenchContext, type Figure } from '../harness';

interface Timed {
  /** Wall seconds. */
  wall: number;
  /** CPU seconds of this process (every thread). */
  cpu: number;
}

async function timed(work: () => Promise<unknown>): Promise<Timed> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
}

const chunks = (file: string) => createReadStream(file, { highWaterMark: 1 << 20 });

/** Every record split into fields, nothing written: the reader's own cost. */
async function readOnly(file: string, expected: { records: number; malformed: number }): Promise<void> {
  let fields = 0;
  const result = await readCsv(chunks(file), {
    header: () => undefined,
    record: (r) => void (fields += r.count),
    malformed: () => undefined,
  });
  if (result.records !== expected.records || result.malformed !== expected.malformed)
    throw new Error(
      `the reader found ${result.records} records and ${result.malformed} malformed in ${file}, not ${expected.records} and ${expected.malformed}`,
    );
  if (fields < result.records) throw new Error(`the reader split ${fields} fields for ${result.records} records`);
}

/** DuckDB's read of the same file, every column touched, on `threads` threads. */
async function duckdbRead(file: string, threads: number, rows: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: '256MB' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT count(*) AS n, max(length(order_id)) + max(length(customer_id)) + max(length(order_date)) + max(length(amount)) + max(length(status)) AS w
       FROM read_csv($1, header = true, all_varchar = true, null_padding = true, ignore_errors = true)`,
      [file],
    );
    const n = Number(reader.getRowObjects()[0].n);
    if (n < rows * 0.98) throw new Error(`DuckDB read ${n} rows of ${rows}`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** writeNumberedCsv as extract calls it: the file opened again if it is not plain; it must take the plain path here. */
async function plainNumbered(file: string, output: string, rows: number): Promise<void> {
  const written = await writeNumberedCsv(() => chunks(file), output, FLOW_CONTRACT, file);
  if (written.path !== 'plain') throw new Error(`${file} was not read as plain: ${written.path}`);
  if (written.rows !== rows) throw new Error(`numbered ${written.rows} rows of ${rows}`);
}

export async function readerScenario(ctx: BenchContext): Promise<Figure[]> {
  const rows = ctx.quick ? 100_000 : 1_000_000;
  const repeats = ctx.quick ? 2 : 5;
  const dir = path.join(ctx.config.dataDir, 'bench-reader');
  await mkdir(dir, { recursive: true });
  const figures: Figure[] = [];
  try {
    for (const [label, badRate] of [
      ['clean', 0],
      ['1% bad rows', 0.01],
    ] as const) {
      const file = path.join(dir, `orders-${badRate}.csv`);
      const seeded = await generateOrders({ ds: '2031-05-05', rows, badRate, seed: 11, file });
      const mb = (await stat(file)).size / 1e6;
      // A missing column is the one bad kind the reader itself refuses (field count); the others are the contract's to judge.
      const malformed = seeded.byKind.missing_column;
      const expected = { records: rows - malformed, malformed };
      ctx.say(`reader: ${rows.toLocaleString('en')} rows, ${label}: ${mb.toFixed(1)} MB`);
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['Baton reader, reading only', () => readOnly(file, expected)],
        ['Baton reader, writing the numbered CSV', () => writeNumberedCsv(chunks(file), path.join(dir, 'numbered.csv'), FLOW_CONTRACT, file)],
        // extract's way: a plain file (no quote, CR or NUL; both files here) numbered line by line.
        ['Baton, numbering a plain file (extract)', () => plainNumbered(file, path.join(dir, 'numbered.csv'), expected.records + expected.malformed)],
        ['DuckDB read_csv, 1 thread', () => duckdbRead(file, 1, rows)],
        ['DuckDB read_csv, 2 threads', () => duckdbRead(file, 2, rows)],
      ];
      const results = new Map<string, Timed[]>();
      // Repeats taking turns, after one warm-up round: each case sees the same machine.
      for (let i = 0; i <= repeats; i++)
        for (const [name, work] of cases) {
          const t = await timed(work);
          if (i > 0) results.set(name, [...(results.get(name) ?? []), t]);
        }
      const perCore = (name: string) => results.get(name)!.map((t) => mb / t.cpu);
      const floor = median(perCore('DuckDB read_csv, 1 thread'));
      for (const [name] of cases) {
        const values = perCore(name);
        const walls = results.get(name)!.map((t) => mb / t.wall);
        const value = median(values);
        figures.push({
          scenario: 'reader',
          measure: `${rows / 1_000_000}M rows, ${label}: ${name}, MB/s per core`,
          value,
          unit: 'MB/s',
          spread: spread(values),
          ...(name.startsWith('Baton') ? { floor: { label: 'DuckDB read_csv, 1 thread', value: floor }, ratio: value / floor } : {}),
          note: `${median(walls).toFixed(0)} MB/s of wall time; ${mb.toFixed(1)} MB`,
        });
      }
      ctx.say(`reader: ${label}: ${cases.map(([name]) => `${name} ${median(perCore(name)).toFixed(0)} MB/s per core`).join('; ')}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}
