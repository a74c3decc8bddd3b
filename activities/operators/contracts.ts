/**
 * What a DAG's own tasks are given on the worker. Each operator's activity input is declared
 * with its activity (src/operators/<name>/activity.ts).
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../../src/config';

/** What the worker wires once and every DAG's own task is given a part of (its TaskContext). */
export interface WorkerClients {
  /** Baton's warehouse (the worker's database role). */
  pool: Pool;
  /** The pool of a named connection: `warehouse`, or BATON_CONN_<NAME>. */
  connection: (name: string) => Pool;
  config: Config;
  logger: Logger;
}
