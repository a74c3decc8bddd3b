/**
 * orders_daily_etl's own tasks: Baton's orders activities (activities/postgres.ts, activities/dbt.ts)
 * as this worker runs them, each taking its task's args.
 */
import type { UserTaskContext, UserTaskInput } from '../../../activities/operators/contracts';
import type { ExtractFromDbInput, LoadInput, PartitionInput, TransformInput, ValidateInput } from '../../../src/contracts';

export const extract = ({ args }: UserTaskInput, { activities }: UserTaskContext) => activities.extract(args as PartitionInput);
export const extractFromDb = ({ args }: UserTaskInput, { activities }: UserTaskContext) => activities.extractFromDb(args as ExtractFromDbInput);
export const transform = ({ args }: UserTaskInput, { activities }: UserTaskContext) => activities.transform(args as TransformInput);
export const load = ({ args }: UserTaskInput, { activities }: UserTaskContext) => activities.load(args as LoadInput);
export const validate = ({ args }: UserTaskInput, { activities }: UserTaskContext) => activities.validate(args as ValidateInput);

/** `dbt run --select <select>` on the worker's target (BATON_DBT_TARGET). */
export function dbtRun({ args }: UserTaskInput, { activities, config }: UserTaskContext) {
  const { ds, select } = args as { ds: string; select: string };
  return activities.dbtRun({ ds, select, target: config.dbt.target });
}
