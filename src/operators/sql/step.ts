/**
 * The `sql` operator's step: an inline statement parameterized here (the history shows its
 * values), or a .sql file of the DAG's folder, which the activity reads and parameterizes with
 * the run's templates.
 */
import { parameterize } from '../../sdk/templates';
import type { OperatorStep } from '../steps';

export const sqlStep: OperatorStep<'sql'> = (definition, { base, ctx, activities }) => {
  const statement = typeof definition.sql === 'string' ? parameterize(definition.sql, ctx) : undefined;
  return activities.operatorSql({
    ...base,
    conn: definition.conn,
    output: definition.output ?? 'rowCount',
    ...(statement ? { statement } : { file: (definition.sql as { file: string }).file, templates: ctx }),
  });
};
