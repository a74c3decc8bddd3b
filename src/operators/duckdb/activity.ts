/**
 * The `duckdb` operator's activity: a SELECT over files of the data directory written to one
 * Parquet file, published atomically (written beside it, then renamed over it), so a reader never
 * sees half a file and a failed task leaves the old one. DuckDB is fenced into the data directory
 * and held to the worker's limits; relative paths in the SQL are relative to the data directory.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { dataDirResolver } from '../../data/data-dir';
import { DUCKDB_LIMITS, sqlString, withDuckdb, type DuckdbLimits } from '../../data/duckdb-session';
import { stagedFiles } from '../../data/staged-files';
import { whileHeartbeating } from '../../data/heartbeat';
import type { OperatorInput } from '../common';
import { duckdbQueryProblem, type DuckdbOutput } from './definition';

export interface DuckdbOperatorInput extends OperatorInput {
  /** A SELECT over files of the data directory, rendered. */
  sql: string;
  /** The Parquet file it becomes, under the data directory. */
  output: string;
}

/** A data file's name in the SQL: a quoted relative path ending in a file type DuckDB reads (globs too). */
const DATA_FILE = /'((?:[A-Za-z0-9_.*{},=-]+\/)*[A-Za-z0-9_.*{},=-]+\.(?:csv|tsv|parquet|json|ndjson|jsonl)(?:\.gz|\.zst)?)'/g;

/**
 * The query with each quoted relative data file (`'raw/events_2024-05-06.csv'`) made absolute
 * under the data directory, which is the only place DuckDB may read: a path with `..` is refused.
 */
export function dataPaths(sql: string, root: string): string {
  const resolve = dataDirResolver(root);
  return sql.replace(DATA_FILE, (_, file: string) => sqlString(resolve(file)));
}

export function createDuckdbOperator(dataDir: string, limits: DuckdbLimits = DUCKDB_LIMITS) {
  return async function operatorDuckdb(input: DuckdbOperatorInput): Promise<DuckdbOutput> {
    const problem = duckdbQueryProblem(input.sql);
    if (problem) throw ApplicationFailure.nonRetryable(`${input.taskId}: ${problem}`, 'InvalidQuery');
    const root = path.resolve(dataDir);
    const output = dataDirResolver(root)(input.output);
    if (!output.endsWith('.parquet')) throw ApplicationFailure.nonRetryable(`${input.taskId}: ${input.output} is not a .parquet file`, 'InvalidPath');
    await mkdir(path.dirname(output), { recursive: true });
    const tmp = path.join(path.dirname(output), `.${path.basename(output)}.${randomUUID()}.tmp`);
    try {
      const rows = await whileHeartbeating(
        stagedFiles(root).withWorkDir((work) =>
          withDuckdb(root, path.join(work, 'duckdb'), limits, async (db) => {
            const query = dataPaths(input.sql.trim().replace(/;\s*$/, ''), root);
            try {
              return await db.copy(`COPY (${query}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
            } catch (err) {
              const message = (err as Error).message;
              // Permission, binder, parser and catalog errors fail the same way again.
              throw ApplicationFailure.nonRetryable(`${input.taskId}: DuckDB: ${message.split('\n')[0]}`, 'DuckdbQueryFailed');
            }
          }),
        ),
      );
      await rename(tmp, output);
      const { size } = await stat(output);
      return { path: input.output, rows, bytes: size };
    } finally {
      await rm(tmp, { force: true });
    }
  };
}
