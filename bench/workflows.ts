/** The worker's workflows plus the benchmarks' own instruments. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { fileSensor, type SensorOptions, type SensorOutcome } from '../workflows/sensors';
import ordersEtlFile from '../workflows/dags/orders-etl/dag';
import ordersDailyEtlFile from '../workflows/dags/orders_daily_etl/dag';
import { registerDagFiles } from '../workflows/dag-registry';
import { benchOrdersFile } from './backfill-dag';
import { ENGINE_DAGS } from './engine-dags';

export * from '../workflows';

// The reference pipelines' DAG files (their workflow types run them), orders_daily_etl under the
// backfill benchmark's definition and the engine's no-op DAGs,
// run by the DAG engine's default workflow under their dag ids.
registerDagFiles([ordersDailyEtlFile, ordersEtlFile, benchOrdersFile, ...ENGINE_DAGS]);
export { dagFileWorkflow as default } from '../workflows/dag-registry';

/** One sensor waiting for a file under the data directory, outside any DAG: what 200 waiting sensors cost. */
export async function benchSensor(input: { path: string; options: SensorOptions }): Promise<SensorOutcome> {
  const interval = { ds: '2024-01-01', dataIntervalStart: '2024-01-01T00:00:00Z', dataIntervalEnd: '2024-01-02T00:00:00Z' };
  return fileSensor({ pathTemplate: input.path, settle: '0s' }, input.options, { interval, settings: { dbtTarget: 'dev' } });
}

const rawTasks = proxyActivities<Activities>({ startToCloseTimeout: '15m', retry: { maximumAttempts: 1 } });

/**
 * The floor of the overhead scenario: noopDag's tasks (the same no-op activity, the same
 * options, one after another) in a bare workflow, without Baton's DAG machinery (labels,
 * run settings, task table, metrics).
 */
export async function benchRawSequence(input: { ds: string; tasks?: number }): Promise<{ tasks: number }> {
  const count = input.tasks ?? 7;
  for (let i = 1; i <= count; i++) await rawTasks.noopTask({ taskId: `task_${i}`, ds: input.ds });
  return { tasks: count };
}
