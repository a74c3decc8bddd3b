/**
 * One DuckDB per activity call: in memory, held to its limits, fenced into the data directory,
 * interrupted when the activity is cancelled, and closed when the call ends.
 */
import path from 'node:path';
import type { DuckDBConnection, DuckDBValue, Json } from '@duckdb/node-api';
import { cancellationSignal, cancelledError } from './heartbeat';

export interface DuckdbLimits {
  /** DuckDB's memory_limit: beyond it DuckDB spills to its temp directory or waits. */
  memoryLimit: string;
  threads: number;
}

/**
 * What one activity call may use. DuckDB keeps Parquet output in file order by buffering
 * batches, so a call's memory is bounded by this limit and by the row group size (below),
 * however large the file: measured, the worker peaks alike at 1M and 5M rows.
 */
export const DUCKDB_LIMITS: DuckdbLimits = { memoryLimit: '256MB', threads: 2 };

/** A string as a SQL literal; only for paths of our own making (user values are bound parameters). */
export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** What an activity asks of its DuckDB. */
export interface DuckdbSession {
  /** Runs one statement with bound parameters; small results only (counts, schemas). */
  rows(sql: string, params?: DuckDBValue[]): Promise<Record<string, Json>[]>;
  /** Runs a COPY and returns how many rows it wrote. */
  copy(sql: string, params?: DuckDBValue[]): Promise<number>;
  /** Column names and types of a Parquet file, read from its footer. */
  parquetColumns(file: string): Promise<Map<string, string>>;
  /** The running statement's progress in percent, when DuckDB can tell. */
  percent(): number | undefined;
}

/**
 * DuckDB's API, loaded on first use: a worker that runs no DuckDB task never maps the library.
 * A require, not an import(): the compiled worker (src/build.ts) finds packages through NODE_PATH.
 */
function duckdbApi(): typeof import('@duckdb/node-api') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@duckdb/node-api') as typeof import('@duckdb/node-api');
}

/**
 * Runs `work` on a fresh in-memory DuckDB, held to `limits` and fenced into the data
 * directory, and closes it. One instance per activity call: its memory is returned when the
 * call ends, concurrent calls never share a temp directory, and the interrupt sent on
 * cancellation stops only this call's statement.
 */
export async function withDuckdb<T>(root: string, tempDirectory: string, limits: DuckdbLimits, work: (db: DuckdbSession) => Promise<T>): Promise<T> {
  const signal = cancellationSignal();
  const { DuckDBInstance } = duckdbApi();
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: limits.memoryLimit,
    threads: String(limits.threads),
    temp_directory: tempDirectory,
    // Parquet and CSV are built in; never reach out for an extension.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  let connection: DuckDBConnection | undefined;
  const interrupt = () => connection?.interrupt();
  signal.addEventListener('abort', interrupt);
  try {
    connection = await instance.connect();
    const conn = connection;
    // Progress for the heartbeat, without DuckDB printing a bar on the worker's stdout.
    await conn.run('SET enable_progress_bar = true');
    await conn.run('SET enable_progress_bar_print = false');
    await conn.run('SET progress_bar_time = 0');
    // This DuckDB reads and writes under the data directory only, whatever a path says.
    await conn.run(`SET allowed_directories = [${sqlString(root + path.sep)}]`);
    await conn.run('SET enable_external_access = false');

    const run = async (sql: string, params?: DuckDBValue[]) => {
      if (signal.aborted) throw cancelledError(signal);
      try {
        return await conn.runAndReadAll(sql, params);
      } catch (err) {
        // An interrupted statement fails with DuckDB's "INTERRUPT Error": report the cancellation.
        if (signal.aborted) throw cancelledError(signal);
        throw err;
      }
    };
    return await work({
      rows: async (sql, params) => (await run(sql, params)).getRowObjectsJson(),
      copy: async (sql, params) => Number((await run(sql, params)).getRowObjectsJson()[0].Count),
      parquetColumns: async (file) => {
        const reader = await run('SELECT * FROM read_parquet($1) LIMIT 0', [file]);
        const types = reader.columnTypes();
        return new Map(reader.columnNames().map((name, i) => [name, types[i].toString()]));
      },
      percent: () => {
        const p = conn.progress.percentage;
        return p >= 0 ? Math.round(p) : undefined;
      },
    });
  } finally {
    signal.removeEventListener('abort', interrupt);
    connection?.closeSync();
    instance.closeSync();
  }
}
