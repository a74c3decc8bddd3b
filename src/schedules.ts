/**
 * Temporal Schedules stand in for Airflow's scheduler: one schedule per DAG, created or
 * updated from the DAG definitions in code. A schedule starts `scheduledDagRun`, which
 * derives the logical date from the fire time and starts the run `<dag_id>-<ds>`.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SearchAttributeNames, TASK_QUEUE, WorkflowTypes, type ScheduledDagRunInput } from './contracts';
import type { DagDefinition } from './dags';
import { validateDag } from './dag-validation';
import { startOfDay } from './timetable';

export type SyncOutcome = 'created' | 'updated' | 'unchanged';

export interface SyncReport {
  outcomes: Record<string, SyncOutcome>;
  /** Baton schedules whose DAG is no longer in code. */
  removed: string[];
  pruned: boolean;
}

/** What of a DAG shapes its schedule; kept in the action's memo to tell whether code changed. */
export function scheduleFingerprint(dag: DagDefinition): string {
  const { dagId, workflowType, schedule, timezone, timetable, startDate, endDate, catchup, tags, runArgs } = dag;
  return JSON.stringify({ v: 2, dagId, workflowType, schedule, timezone, timetable, startDate, endDate, catchup, tags, runArgs });
}

export function scheduleOptionsFor(dag: DagDefinition): ScheduleOptions {
  const input: ScheduledDagRunInput = {
    dagId: dag.dagId,
    workflowType: dag.workflowType,
    schedule: dag.schedule,
    timezone: dag.timezone,
    timetable: dag.timetable,
    startDate: dag.startDate,
    ...(dag.endDate ? { endDate: dag.endDate } : {}),
    ...(dag.runArgs ? { args: dag.runArgs } : {}),
  };
  return {
    scheduleId: dag.dagId,
    spec: {
      cronExpressions: [dag.schedule],
      timezone: dag.timezone,
      startAt: startOfDay(dag.startDate, dag.timezone),
      // The last run of an interval timetable fires the day after end_date.
      ...(dag.endDate ? { endAt: new Date(startOfDay(dag.endDate, dag.timezone).getTime() + 2 * 86_400_000) } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: WorkflowTypes.scheduledDagRun,
      args: [input],
      taskQueue: TASK_QUEUE,
      workflowId: `${dag.dagId}-scheduled`,
      memo: { fingerprint: scheduleFingerprint(dag) },
      typedSearchAttributes: [{ key: defineSearchAttributeKey(SearchAttributeNames.dag, SearchAttributeType.KEYWORD), value: dag.dagId }],
    },
    policies: {
      // max_active_runs is kept by the DAG's slot keeper for every kind of run, so the
      // schedule only starts runs; each starts quickly and queues there in date order.
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
      // catchup=False: never run the intervals missed while the server was down or the
      // schedule paused (the server's default window is a year).
      catchupWindow: dag.catchup ? '365 days' : '1 minute',
    },
    memo: { baton: true, dagId: dag.dagId, owner: dag.defaultArgs.owner, description: dag.description },
  };
}

/**
 * Creates the DAG's schedule, or updates it in place when the DAG changed, keeping its
 * paused state. catchup=True: creating it also runs every missed interval since start_date.
 */
export async function syncSchedule(client: Client, dag: DagDefinition, now = new Date()): Promise<SyncOutcome> {
  validateDag(dag);
  const options = scheduleOptionsFor(dag);
  const handle = client.schedule.getHandle(dag.dagId);
  try {
    const existing = await handle.describe();
    const memo = existing.action.type === 'startWorkflow' ? existing.action.memo : undefined;
    if (memo?.fingerprint === scheduleFingerprint(dag)) return 'unchanged';
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    const created = await client.schedule.create(options);
    const start = options.spec.startAt as Date;
    if (dag.catchup && start < now) {
      await created.backfill([{ start, end: now, overlap: ScheduleOverlapPolicy.ALLOW_ALL }]);
    }
    return 'created';
  }
  await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
  return 'updated';
}

/** Syncs every DAG; reports Baton schedules whose DAG left the code, deleting them with `prune`. */
export async function syncSchedules(client: Client, dags: readonly DagDefinition[], prune = false): Promise<SyncReport> {
  dags.forEach(validateDag); // all or nothing: a broken definition stops the sync before any change
  const outcomes: Record<string, SyncOutcome> = {};
  for (const dag of dags) outcomes[dag.dagId] = await syncSchedule(client, dag);
  const known = new Set(dags.map((d) => d.dagId));
  const removed: string[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.memo?.baton === true && !known.has(schedule.scheduleId)) removed.push(schedule.scheduleId);
  }
  if (prune) for (const id of removed) await client.schedule.getHandle(id).delete();
  return { outcomes, removed: removed.sort(), pruned: prune };
}
