/**
 * orders-etl's own tasks: Baton's DuckDB activities for the flow (activities/duckdb/orders-etl.ts),
 * as this worker runs them, each taking its task's args.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { TaskContext } from 'baton/task';
import type { LoadOrdersInput, TransformOrdersInput } from '../../../activities/duckdb/orders-etl';
import { referenceActivities, type ReferenceTaskContext } from '../../../activities/operators/contracts';

/** Like wait_for_file, extract_data reads the file only once it has been still for the settle time (BATON_FILE_SETTLE, 5 s). */
export async function extractOrders({ startDate }: { startDate: string }, context: TaskContext) {
  const settle = (context as ReferenceTaskContext).config.sensors.fileSettle ?? '5s';
  return referenceActivities(context).extractOrders({ startDate, settleSeconds: msToNumber(settle as Duration) / 1000 });
}

export const transformOrders = (args: TransformOrdersInput, context: TaskContext) => referenceActivities(context).transformOrders(args);

export const loadOrders = (args: LoadOrdersInput, context: TaskContext) => referenceActivities(context).loadOrders(args);
