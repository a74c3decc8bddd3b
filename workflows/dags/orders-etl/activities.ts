/**
 * orders-etl's own tasks: the flow's DuckDB steps (tasks.ts beside this file), each taking its
 * task's args and its context's logger and data directory.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { TaskContext } from 'baton/task';
import { createOrdersEtlTasks, type LoadOrdersInput, type TransformOrdersInput } from './tasks';

const tasksOf = ({ logger, dataDir }: TaskContext) => createOrdersEtlTasks({ logger, config: { dataDir } });

/** Like wait_for_file, extract_data reads the file only once it has been still for the settle time (BATON_FILE_SETTLE, 5 s). */
export function extractOrders({ startDate }: { startDate: string }, context: TaskContext) {
  return tasksOf(context).extractOrders({ startDate, settleSeconds: msToNumber(context.fileSettle as Duration) / 1000 });
}

export const transformOrders = (args: TransformOrdersInput, context: TaskContext) => tasksOf(context).transformOrders(args);

export const loadOrders = (args: LoadOrdersInput, context: TaskContext) => tasksOf(context).loadOrders(args);
