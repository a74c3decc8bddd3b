/**
 * Temporal Schedules stand in for Airflow's scheduler: one schedule per DAG, created or
 * updated from the DAG definitions in code.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { TASK_QUEUE } from './contracts';
import type { DagDefinition } from './dags';

export type SyncOutcome = 'created' | 'updated' | 'unchanged';

export function scheduleOptionsFor(dag: DagDefinition): ScheduleOptions {
  return {
    scheduleId: dag.dagId,
    spec: {
      cronExpressions: [dag.schedule],
      timezone: dag.timezone,
      startAt: new Date(`${dag.startDate}T00:00:00Z`),
      ...(dag.endDate ? { endAt: new Date(`${dag.endDate}T23:59:59Z`) } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: dag.workflowType,
      // The run derives ds from its scheduled time (TemporalScheduledStartTime).
      args: [{}],
      taskQueue: TASK_QUEUE,
      workflowId: `${dag.dagId}-scheduled`,
      memo: { owner: dag.defaultArgs.owner, description: dag.description, fingerprint: scheduleFingerprint(dag) },
    },
    policies: {
      // max_active_runs=1 queues the next run, as Airflow does, instead of skipping it.
      overlap: dag.maxActiveRuns === 1 ? ScheduleOverlapPolicy.BUFFER_ALL : ScheduleOverlapPolicy.ALLOW_ALL,
      // catchup=False: never run the intervals missed while the schedule did not exist or was paused.
      catchupWindow: dag.catchup ? '365 days' : '1 minute',
    },
    memo: { dagId: dag.dagId, tags: dag.tags.join(',') },
  };
}

/** What of a DAG shapes its schedule; kept in the action's memo to tell whether code changed. */
export function scheduleFingerprint(dag: DagDefinition): string {
  const { dagId, workflowType, schedule, timezone, startDate, endDate, catchup, maxActiveRuns } = dag;
  return JSON.stringify({ dagId, workflowType, schedule, timezone, startDate, endDate, catchup, maxActiveRuns });
}

/** Creates the DAG's schedule, or updates it in place when the DAG changed, keeping its paused state. */
export async function syncSchedule(client: Client, dag: DagDefinition): Promise<SyncOutcome> {
  const options = scheduleOptionsFor(dag);
  const handle = client.schedule.getHandle(dag.dagId);
  try {
    const existing = await handle.describe();
    const memo = existing.action.type === 'startWorkflow' ? existing.action.memo : undefined;
    if (memo?.fingerprint === scheduleFingerprint(dag)) return 'unchanged';
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create(options);
    return 'created';
  }
  await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
  return 'updated';
}
