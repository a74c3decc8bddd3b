/**
 * The `sql` operator's settings, output and templates, and its builder: one statement on a
 * named connection, its `{{ }}` placeholders (and references) bound as parameters. Pure.
 */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, connName, relativePath } from '../common';
import type { OperatorDefinition } from '../definitions';
import type { EmptyOutput } from '../empty/definition';

export interface SqlTask extends TaskBase {
  operator: 'sql';
  /** A connection name (BATON_CONN_<NAME>, or `warehouse` for Baton's own database). */
  conn: string;
  /** The statement, or `{ file }` relative to the DAG's folder; placeholders become bound parameters. */
  sql: string | { file: string };
  /** `rowCount` (the default), `firstRow` (its columns as the output) or `none`. */
  output?: 'rowCount' | 'firstRow' | 'none';
}

/** sql with `output: 'rowCount'` (the default): the rows the statement returned or changed. */
export interface SqlRowCountOutput {
  rows: number;
}

export const sqlDefinition: OperatorDefinition<SqlTask, SqlRowCountOutput> = {
  operator: 'sql',
  settings: z
    .object({
      ...common,
      conn: connName,
      sql: z.union([z.string().min(1), z.object({ file: relativePath.refine((p) => p.endsWith('.sql'), 'a .sql file') }).strict()]),
      output: z.enum(['rowCount', 'firstRow', 'none']).optional(),
    })
    .strict(),
  // A first row has the columns of the statement, which only the database knows.
  outputFields: (task) => (task.output === 'firstRow' ? '*' : task.output === 'none' ? [] : ['rows']),
  // A .sql file is templated on the worker, which reads it.
  templates: (task) => (typeof task.sql === 'string' ? [task.sql] : []),
};

/** SQL on a named connection; `{{ }}` placeholders (and references) are bound parameters. Output: `{ rows }`, the first row, or nothing. */
export function sql<I extends Inputs = NoInputs>(
  taskId: string,
  settings: Settings<SqlTask, I, SqlRowCountOutput> & { output?: 'rowCount' },
): TaskOf<SqlRowCountOutput>;
export function sql<Row extends object = Record<string, unknown>, I extends Inputs = NoInputs>(
  taskId: string,
  settings: Settings<SqlTask, I, Row> & { output: 'firstRow' },
): TaskOf<Row>;
export function sql<I extends Inputs = NoInputs>(taskId: string, settings: Settings<SqlTask, I, EmptyOutput> & { output: 'none' }): TaskOf<EmptyOutput>;
export function sql(taskId: string, settings: object): unknown {
  return declare('sql', taskId, settings);
}
