/**
 * orders-etl's own tasks: Baton's DuckDB activities (activities/duckdb/orders-etl.ts) on the
 * worker's settings, each taking its task's args.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { UserTaskContext, UserTaskInput } from '../../../activities/operators/contracts';
import { createDuckdbActivities, type LoadOrdersInput, type TransformOrdersInput } from '../../../activities/duckdb/orders-etl';

const made = new WeakMap<UserTaskContext, ReturnType<typeof createDuckdbActivities>>();
/** The activities, made once per worker. */
const files = (context: UserTaskContext) =>
  made.get(context) ?? made.set(context, createDuckdbActivities({ logger: context.logger, config: context.config })).get(context)!;

/** Like wait_for_file, extract_data reads the file only once it has been still for the settle time (BATON_FILE_SETTLE, 5 s). */
export async function extractOrders({ args }: UserTaskInput, context: UserTaskContext) {
  const { startDate } = args as { startDate: string };
  const settleSeconds = msToNumber((context.config.sensors.fileSettle ?? '5s') as Duration) / 1000;
  return files(context).extractOrders({ startDate, settleSeconds });
}

export const transformOrders = ({ args }: UserTaskInput, context: UserTaskContext) => files(context).transformOrders(args as TransformOrdersInput);

export const loadOrders = ({ args }: UserTaskInput, context: UserTaskContext) => files(context).loadOrders(args as LoadOrdersInput);
