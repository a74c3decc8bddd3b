/**
 * What the DAG engine (workflows/engine.ts) sends each operator's activity: the task's settings
 * with its templates already rendered (so the history shows what ran), and what it gets back.
 */
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
