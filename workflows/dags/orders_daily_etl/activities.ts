/**
 * orders_daily_etl's own tasks: Baton's orders activities (activities/postgres.ts, activities/dbt.ts)
 * on the worker's clients, each taking its task's args.
 */
import type { UserTaskContext, UserTaskInput } from '../../../activities/operators/contracts';
import { createDbtActivities } from '../../../activities/dbt';
import { createPostgresActivities } from '../../../activities/postgres';
import type { DbtRunResult, ExtractFromDbInput, LoadInput, PartitionInput, TransformInput, ValidateInput } from '../../../src/contracts';

const made = new WeakMap<UserTaskContext, ReturnType<typeof make>>();
const make = ({ pool, connection, config, logger }: UserTaskContext) => ({
  ...createPostgresActivities({ pool, logger, config, poolFor: connection }),
  ...createDbtActivities({ logger, config }),
});
/** The activities, made once per worker. */
const orders = (context: UserTaskContext) => made.get(context) ?? made.set(context, make(context)).get(context)!;

export const extract = ({ args }: UserTaskInput, context: UserTaskContext) => orders(context).extract(args as PartitionInput);
export const extractFromDb = ({ args }: UserTaskInput, context: UserTaskContext) => orders(context).extractFromDb(args as ExtractFromDbInput);
export const transform = ({ args }: UserTaskInput, context: UserTaskContext) => orders(context).transform(args as TransformInput);
export const load = ({ args }: UserTaskInput, context: UserTaskContext) => orders(context).load(args as LoadInput);
export const validate = ({ args }: UserTaskInput, context: UserTaskContext) => orders(context).validate(args as ValidateInput);

/** `dbt run --select <select>` on the worker's target (BATON_DBT_TARGET). */
export async function dbtRun({ args }: UserTaskInput, context: UserTaskContext): Promise<DbtRunResult> {
  const { ds, select } = args as { ds: string; select: string };
  return orders(context).dbtRun({ ds, select, target: context.config.dbt.target });
}
