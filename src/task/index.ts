/**
 * `baton/task`: what a DAG's own tasks (the functions of its activities module) are written
 * against. They run on the worker, in Node: a task is `(args, context) => output`, its args
 * what the DAG passes, its output small JSON (references and counts) that downstream tasks read.
 * Besides the context, the data path Baton's operators use: a file of the data directory read
 * once and consistently, a CSV staged into Postgres under a column contract, DuckDB sessions
 * confined to the data directory and files published atomically.
 *
 *   import { failTask, type TaskContext } from 'baton/task';
 *   export async function fiscalDay(args: { ds: string }, { logger }: TaskContext) { ... }
 */
import { ApplicationFailure } from '@temporalio/common';

export type { DbtOutcome, TaskContext } from './context';
export { parseDs } from '../logical-date';
export { inTransaction, isStatementError, withClient } from '../data/connections';
export { tracked, whileHeartbeating, type Progress } from '../data/heartbeat';
export { openDataFile, sha256File, waitUntilSettled, type OpenedFile } from '../data/data-dir';
export { mostCommonRejects, stageCsv, type StageCsvOptions, type StagedCsv } from '../data/csv-load';
export { DEFAULT_MAX_RECORD_BYTES } from '../data/csv-record';
export { numberedCsvSql, writeNumberedCsv, type NumberedFile, type NumberedLayout } from '../data/csv-file';
export { DUCKDB_LIMITS, sqlString, withDuckdb, type DuckdbLimits, type DuckdbSession } from '../data/duckdb-session';
export { stagedFiles } from '../data/staged-files';

/**
 * An error that fails the task for good, without its retries: bad input that a retry cannot
 * mend. The message names the thing (file, line, value) and what was expected.
 */
export function failTask(message: string, type = 'TaskFailed'): Error {
  return ApplicationFailure.nonRetryable(message, type);
}
