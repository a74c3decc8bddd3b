/**
 * orders_daily_etl's own tasks: Baton's orders activities (activities/postgres.ts, activities/dbt.ts)
 * as this worker runs them, each taking its task's args.
 */
import type { TaskContext } from 'baton/task';
import { referenceActivities, type ReferenceTaskContext } from '../../../activities/operators/contracts';
import type { ExtractFromDbInput, LoadInput, PartitionInput, TransformInput, ValidateInput } from './contract';

export const extract = (args: PartitionInput, context: TaskContext) => referenceActivities(context).extract(args);
export const extractFromDb = (args: ExtractFromDbInput, context: TaskContext) => referenceActivities(context).extractFromDb(args);
export const transform = (args: TransformInput, context: TaskContext) => referenceActivities(context).transform(args);
export const load = (args: LoadInput, context: TaskContext) => referenceActivities(context).load(args);
export const validate = (args: ValidateInput, context: TaskContext) => referenceActivities(context).validate(args);

/** `dbt run --select <select>` on the worker's target (BATON_DBT_TARGET). */
export function dbtRun({ ds, select }: { ds: string; select: string }, context: TaskContext) {
  return referenceActivities(context).dbtRun({ ds, select, target: (context as ReferenceTaskContext).config.dbt.target });
}
