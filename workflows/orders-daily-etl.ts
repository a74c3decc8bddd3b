/**
 * orders_daily_etl, ported from Airflow:
 *   extract >> check_data >> [transform >> load >> validate >> dbt_run | send_empty_alert]
 */
import {
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, type Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { OrdersDailyEtlInput, OrdersDailyEtlResult, RunSettings } from '../src/contracts';
import { ordersDailyEtlDag as dag, type DefaultArgs } from '../src/dags';
import { parseDs } from '../src/logical-date';
import { intervalForFireTime } from '../src/timetable';
import { rootMessage, TaskTable } from './dag';

const TASKS = ['extract', 'check_data', 'transform', 'load', 'validate', 'dbt_run', 'send_empty_alert'] as const;

export async function ordersDailyEtl(input?: Partial<OrdersDailyEtlInput>): Promise<OrdersDailyEtlResult> {
  const ds = logicalDate(input);
  const tasks = new TaskTable(TASKS);
  const { runSettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });
  const settings = await runSettings();
  const etl = etlTasks(dag.defaultArgs, settings);
  const alerts = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3 } });

  try {
    const { rowCount } = await tasks.run('extract', () => etl.extract({ ds }), (r) => ({ rowCount: r.rowCount }));
    const branch = await tasks.run('check_data', async () => (rowCount > 0 ? 'transform' : 'send_empty_alert'), (b) => ({ branch: b }));

    if (branch === 'send_empty_alert') {
      tasks.skip('transform', 'load', 'validate', 'dbt_run');
      await tasks.run('send_empty_alert', () =>
        alerts.sendAlert({
          dagId: dag.dagId,
          ds,
          to: dag.defaultArgs.email,
          subject: `[${dag.dagId}] no orders for ${ds}`,
          body: `extract staged 0 rows for ${ds}; transform, load, validate and dbt_run were skipped.`,
        }),
      );
      return { dagId: dag.dagId, ds, state: 'success_with_skips', rowCount, loadedRows: 0, rejectedRows: 0, models: [], tasks: tasks.list() };
    }

    tasks.skip('send_empty_alert');
    await tasks.run('transform', () => etl.transform({ ds, rowCount }), (r) => ({ cleanRows: r.cleanRows, rejectedRows: r.rejectedRows }));
    const loaded = await tasks.run('load', () => etl.load({ ds }), (r) => ({ loadedRows: r.loadedRows, rejectedRows: r.rejectedRows }));
    await tasks.run('validate', () => etl.validate({ ds, rowCount }), (r) => ({ checksPassed: r.checksPassed }));
    const dbt = await tasks.run('dbt_run', () => etl.dbtRun({ ds, select: 'tag:orders', target: settings.dbtTarget }), (r) =>
      Object.fromEntries(r.models.map((m) => [m.model, m.status])),
    );

    return {
      dagId: dag.dagId,
      ds,
      state: 'success',
      rowCount,
      loadedRows: loaded.loadedRows,
      rejectedRows: loaded.rejectedRows,
      models: dbt.models,
      tasks: tasks.list(),
    };
  } catch (err) {
    // email_on_failure: one alert per failed run, after the task's retries are spent.
    const failed = tasks.failedTask();
    if (dag.defaultArgs.emailOnFailure && failed) {
      await alerts.sendAlert({
        dagId: dag.dagId,
        ds,
        to: dag.defaultArgs.email,
        subject: `[${dag.dagId}] ${ds} failed at ${failed.taskId}`,
        body: `task ${failed.taskId} failed: ${rootMessage(err)}\nworkflow ${workflowInfo().workflowId}, run ${workflowInfo().runId}`,
      });
    }
    throw err;
  }
}

/** default_args `retries=2, retry_delay=5m` as a Temporal retry policy: 3 attempts, fixed 5 minutes apart. */
export function retryPolicyFor(args: DefaultArgs, settings: RunSettings): RetryPolicy {
  const interval = (settings.retryDelay ?? args.retryDelay) as Duration;
  return {
    maximumAttempts: settings.maximumAttempts ?? args.retries + 1,
    initialInterval: interval,
    maximumInterval: interval,
    backoffCoefficient: 1,
  };
}

function etlTasks(args: DefaultArgs, settings: RunSettings) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '2h',
    heartbeatTimeout: '2m',
    retry: retryPolicyFor(args, settings),
  });
}

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * ds from the input (a manual run), or from the run's scheduled time (a run started by the
 * schedule). Invalid input fails the run at once, naming the value.
 */
function logicalDate(input: Partial<OrdersDailyEtlInput> | undefined): string {
  try {
    if (input?.ds !== undefined) return parseDs(input.ds);
    const fireTime = workflowInfo().typedSearchAttributes.get(scheduledStartTime);
    if (fireTime) return intervalForFireTime(dag, fireTime).ds;
    return parseDs(undefined);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${dag.dagId}: ${(err as Error).message}`, 'InvalidLogicalDate');
  }
}
