/**
 * What the DAG engine (workflows/engine.ts) sends each operator's activity: the task's settings
 * with its templates already rendered (so the history shows what ran), and what it gets back.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { ColumnContract } from '../../src/column-contract';
import type { Config } from '../../src/config';
import type { LoadCsvOutput } from '../../src/sdk/outputs';
import type { TemplateContext } from '../../src/sdk/templates';

export interface OperatorInput {
  dagId: string;
  taskId: string;
  ds: string;
  /** The engine's try number, 1 for the first. */
  attempt: number;
}

export interface SqlOperatorInput extends OperatorInput {
  conn: string;
  output: 'rowCount' | 'firstRow' | 'none';
  /** An inline statement, parameterized in the workflow. */
  statement?: { text: string; values: unknown[] };
  /** Or a .sql file of the DAG's folder, parameterized here with `templates`. */
  file?: string;
  templates?: TemplateContext;
}

export interface CommandOperatorInput extends OperatorInput {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
}

export interface CommandOperatorResult {
  exitCode: number;
  /** The last lines of its output (stdout and stderr). */
  tail: string;
  skipped?: string;
}

export interface HttpOperatorInput extends OperatorInput {
  conn: string;
  method: string;
  path: string;
  json?: unknown;
  /** Statuses that count as success; empty: any 2xx. */
  expectStatus: number[];
}

export interface HttpOperatorResult {
  status: number;
  bytes: number;
  /** The response's JSON when it is small enough for XCom. */
  json?: unknown;
}

export interface UserTaskInput extends OperatorInput {
  args: unknown;
}

/** What the worker wires once and every DAG's own task is given a part of (its TaskContext). */
export interface WorkerClients {
  /** Baton's warehouse (the worker's database role). */
  pool: Pool;
  /** The pool of a named connection: `warehouse`, or BATON_CONN_<NAME>. */
  connection: (name: string) => Pool;
  config: Config;
  logger: Logger;
}

export interface LoadCsvOperatorInput extends OperatorInput {
  /** Under the data directory, rendered. */
  file: string;
  contract: ColumnContract;
  table: string;
  mode: 'replace' | 'partition';
  maxRejectedRatio?: number;
  allowEmpty?: boolean;
}

/** loadCsv's output, as the SDK declares it to the DAGs that read it. */
export type LoadCsvOperatorResult = LoadCsvOutput;

export interface DbtOperatorInput extends OperatorInput {
  command: 'run' | 'build' | 'test' | 'seed';
  select?: string;
  exclude?: string;
  vars: Record<string, unknown>;
  target: string;
  /** The DAG's own project, relative to its folder; Baton's dbt/ when absent. */
  project?: string;
}

export interface DbtOperatorResult {
  command: string;
  /** Each node's status by name (when there are at most 100 nodes). */
  nodes: Record<string, string>;
  /** How many nodes ended in each status. */
  statuses: Record<string, number>;
}

export interface DuckdbOperatorInput extends OperatorInput {
  /** A SELECT over files of the data directory, rendered. */
  sql: string;
  /** The Parquet file it becomes, under the data directory. */
  output: string;
}

export interface DuckdbOperatorResult {
  path: string;
  rows: number;
  bytes: number;
}
