/**
 * What a DAG's own task gets besides its args: its run, the connections it may use, a logger and
 * the data directory; not Baton's config or its internal activities. Types only: the DAG entry
 * reads them for the signature of a task function, the worker makes the value.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';

export interface TaskContext {
  dagId: string;
  taskId: string;
  /** The run's logical date, YYYY-MM-DD. */
  ds: string;
  /** The engine's try number, 1 for the first. */
  attempt: number;
  /** The pool of a named connection: `warehouse` (Baton's database, the worker's role) or BATON_CONN_<NAME>. Shared; do not end it. */
  connection(name: string): Pool;
  /** The worker's logger, with the task's dag, task and ds on every line. */
  logger: Logger;
  /** The data directory, absolute: where tasks read and write files. */
  dataDir: string;
  /** A path under the data directory, absolute; refuses a path that leaves it (`..`, absolute). */
  dataPath(relative: string): string;
  /** Tells Temporal the task is alive (a long task calls it at least every minute), with progress to resume from. */
  heartbeat(details?: unknown): void;
  /** Aborted when the task is cancelled or timed out: pass it on to what can stop early. */
  signal: AbortSignal;
  /**
   * How long a file must be unchanged before it counts as complete, as the file sensors judge it:
   * a duration such as `5s` (BATON_FILE_SETTLE; 5 s by default).
   */
  fileSettle: string;
  /**
   * Runs dbt on the worker (its pinned dbt, on its target BATON_DBT_TARGET, with Baton's profile)
   * in the project `project`, a folder beside the DAG file: `args` are dbt's command and its
   * arguments (`['run', '--select', 'tag:daily']`). Heartbeats while dbt runs and stops it when
   * the task is cancelled; resolves with what dbt reported, failed or not.
   */
  dbt(args: string[], options: { project: string }): Promise<DbtOutcome>;
  /** Adds to the worker's row counters (baton_rows_loaded, baton_rows_rejected), labelled with the DAG. */
  countRows(counts: { loaded: number; rejected: number }): void;
}

/** What one dbt command did: its exit code, each node's status from run_results.json, and dbt's own error text. */
export interface DbtOutcome {
  exitCode: number;
  /** The target it ran on (`dev`, `prod`). */
  target: string;
  nodes: Array<{ model: string; status: string; executionTimeSeconds: number; message?: string }>;
  /** The failed nodes, else the lines of dbt's first error; empty when it succeeded. */
  failure: string;
}
