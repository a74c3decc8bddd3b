/**
 * orders-etl's own tasks: Baton's DuckDB activities for the flow (activities/duckdb/orders-etl.ts),
 * as this worker runs them, each taking its task's args.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { LoadOrdersInput, TransformOrdersInput } from '../../../activities/duckdb/orders-etl';
import type { UserTaskContext, UserTaskInput } from '../../../activities/operators/contracts';

/** Like wait_for_file, extract_data reads the file only once it has been still for the settle time (BATON_FILE_SETTLE, 5 s). */
export async function extractOrders({ args }: UserTaskInput, { activities, config }: UserTaskContext) {
  const { startDate } = args as { startDate: string };
  return activities.extractOrders({ startDate, settleSeconds: msToNumber((config.sensors.fileSettle ?? '5s') as Duration) / 1000 });
}

export const transformOrders = ({ args }: UserTaskInput, { activities }: UserTaskContext) => activities.transformOrders(args as TransformOrdersInput);

export const loadOrders = ({ args }: UserTaskInput, { activities }: UserTaskContext) => activities.loadOrders(args as LoadOrdersInput);
