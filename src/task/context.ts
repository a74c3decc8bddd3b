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
}
