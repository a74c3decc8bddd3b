/**
 * The `duckdb` operator's settings, output and templates, and its builder: DuckDB SQL over files
 * of the data directory, to one Parquet file. Pure.
 */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, relativePath } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface DuckdbTask extends TaskBase {
  operator: 'duckdb';
  /** A SELECT over files under the data directory (templated paths). */
  sql: string;
  /** The Parquet file it writes (templated), published atomically. */
  output: string;
}

/** duckdb: the Parquet file written. */
export interface DuckdbOutput {
  path: string;
  rows: number;
  bytes: number;
}

/** One query: it starts as a query does and holds no second statement. */
export function duckdbQueryProblem(sql: string): string | undefined {
  const body = sql.trim().replace(/;\s*$/, '');
  if (!/^(select|with|from|values|table)\b/i.test(body)) return 'the SQL must be one query (SELECT, WITH, FROM, VALUES)';
  const unquoted = body.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, '');
  if (unquoted.includes(';')) return 'the SQL must be one query, without ;';
  return undefined;
}

export const duckdbDefinition: OperatorDefinition<DuckdbTask, DuckdbOutput> = {
  operator: 'duckdb',
  settings: z
    .object({
      ...common,
      sql: z
        .string()
        .min(1)
        .refine((q) => !duckdbQueryProblem(q), { message: 'one query (SELECT, WITH, FROM or VALUES), without ;' }),
      output: relativePath.refine((p) => p.endsWith('.parquet'), 'a .parquet file'),
    })
    .strict(),
  outputFields: ['path', 'rows', 'bytes'],
  templates: (task) => [task.sql, task.output],
};

/** DuckDB SQL over files, to one Parquet file published atomically. */
export const duckdb = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<DuckdbTask, I, DuckdbOutput>) =>
  declare('duckdb', taskId, settings) as TaskOf<DuckdbOutput>;
