/**
 * The `sql` operator's activity: one statement on a named connection, its placeholders bound as
 * parameters; its output is the row count or the first row (scalars, for XCom). A statement error
 * (syntax, a missing table, a refused login) fails at once; a dropped connection is retried by
 * the task.
 */
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { isStatementError, withClient, type PoolFor } from '../../data/connections';
import { whileHeartbeating } from '../../data/heartbeat';
import { dagFolderFile, type DagFolders } from '../../../activities/operators/dag-folder';
import { parameterize, TemplateError, type TemplateContext } from '../../sdk/templates';
import type { OperatorInput } from '../common';

export interface SqlOperatorInput extends OperatorInput {
  conn: string;
  output: 'rowCount' | 'firstRow' | 'none';
  /** An inline statement, parameterized in the workflow. */
  statement?: { text: string; values: unknown[] };
  /** Or a .sql file of the DAG's folder, parameterized here with `templates`. */
  file?: string;
  templates?: TemplateContext;
}

/** Postgres's `date` type: node-postgres makes it a Date at local midnight; the output keeps it a date. */
const PG_DATE = 1082;
const localDate = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

export function createSqlOperator(poolFor: PoolFor, folders: DagFolders) {
  return async function operatorSql(input: SqlOperatorInput): Promise<Record<string, unknown>> {
    let statement = input.statement;
    if (!statement) {
      const file = await dagFolderFile(folders, input.dagId, input.file!);
      try {
        statement = parameterize(await readFile(file, 'utf8'), input.templates!);
      } catch (err) {
        if (err instanceof TemplateError) throw ApplicationFailure.nonRetryable(`${input.taskId}: ${input.file}: ${err.message}`, 'TemplateError');
        throw err;
      }
    }
    const { text, values } = statement;
    const result = await whileHeartbeating(
      withClient(poolFor(input.conn), async (client) => {
        try {
          return await client.query({ text, values });
        } catch (err) {
          if (isStatementError(err)) throw ApplicationFailure.nonRetryable(`${input.taskId} on ${input.conn}: ${(err as Error).message}`, 'SqlError');
          throw err;
        }
      }),
    );
    if (input.output === 'none') return {};
    if (input.output === 'firstRow') {
      const row = (result.rows[0] ?? {}) as Record<string, unknown>;
      const dates = new Set(result.fields.filter((f) => f.dataTypeID === PG_DATE).map((f) => f.name));
      return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? (dates.has(k) ? localDate(v) : v.toISOString()) : v]));
    }
    return { rows: result.rowCount ?? 0 };
  };
}
