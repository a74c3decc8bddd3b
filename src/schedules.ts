/**
 * Temporal Schedules stand in for Airflow's scheduler: one schedule per DAG with a cron, created
 * or updated from the DAG definitions in code. A schedule starts `scheduledDagRun`, which
 * derives the logical date from the fire time and starts the run `<dag_id>-<ds>`. A DAG
 * scheduled on assets alone has no schedule: its assets' updates start its runs.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { SearchAttributeKeys, TASK_QUEUE, WorkflowTypes, type ScheduledDagRunInput } from './contracts';
import { hasCron, type CronDagDefinition, type DagDefinition } from './dags';
import { InvalidDagDefinition, validateDag } from './dag-validation';
import { canonicalFire, firesAfter, isFireTime } from './cron';
import { exactLocalTime, temporalSpec } from './temporal-calendars';
import { isSubDaily, lastFireTime, startOfDay } from './timetable';
import { DAY_MS, offsetAt } from './zoned-time';

/** `none`: the DAG is scheduled on assets alone; `deleted`: its schedule from when it had a cron was deleted. */
export type SyncOutcome = 'created' | 'updated' | 'unchanged' | 'none' | 'deleted';

export interface SyncReport {
  outcomes: Record<string, SyncOutcome>;
  /** Baton schedules whose DAG is no longer in code. */
  removed: string[];
  pruned: boolean;
}

/** What of a DAG shapes its schedule; kept in the action's memo to tell whether code changed. */
export function scheduleFingerprint(dag: DagDefinition): string {
  const { dagId, workflowType, schedule, timezone, timetable, startDate, endDate, catchup, tags, runArgs } = dag;
  // The default queue is left out, so schedules made before queues were a setting stay unchanged.
  const queue = dag.taskQueue && dag.taskQueue !== TASK_QUEUE ? { taskQueue: dag.taskQueue } : {};
  return JSON.stringify({ v: 3, dagId, workflowType, schedule, timezone, timetable, startDate, endDate, catchup, tags, runArgs, ...queue });
}

/** The last year whose clock changes the schedule's calendars account for. */
export const CALENDAR_LAST_YEAR = 2100;

export function scheduleOptionsFor(dag: CronDagDefinition): ScheduleOptions {
  const startYear = Number(dag.startDate.slice(0, 4));
  const { calendars, intervals } = temporalSpec(dag.schedule, dag.timezone, startYear, CALENDAR_LAST_YEAR);
  const input: ScheduledDagRunInput = {
    dagId: dag.dagId,
    workflowType: dag.workflowType,
    schedule: dag.schedule,
    timezone: dag.timezone,
    timetable: dag.timetable,
    startDate: dag.startDate,
    catchup: dag.catchup,
    ...(dag.endDate ? { endDate: dag.endDate } : {}),
    ...(dag.runArgs ? { args: dag.runArgs } : {}),
  };
  return {
    scheduleId: dag.dagId,
    spec: {
      // Baton's own reading of the cron (src/cron.ts), so Temporal fires exactly when Baton's dates say.
      calendars,
      ...(intervals.length ? { intervals } : {}),
      timezone: dag.timezone,
      startAt: startOfDay(dag.startDate, dag.timezone),
      // Right after the fire of the run for the last logical date on or before end_date.
      ...(dag.endDate ? { endAt: new Date(lastFireTime(dag, dag.endDate).getTime() + 1000) } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: WorkflowTypes.scheduledDagRun,
      args: [input],
      taskQueue: dag.taskQueue ?? TASK_QUEUE,
      workflowId: `${dag.dagId}-scheduled`,
      memo: { fingerprint: scheduleFingerprint(dag) },
      typedSearchAttributes: [{ key: SearchAttributeKeys.dag, value: dag.dagId }],
    },
    policies: {
      // max_active_runs is kept by the DAG's slot keeper for every kind of run, so the
      // schedule only starts runs; each starts quickly and queues there in date order.
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
      // Fires missed while the server was down are started when it is back, oldest first; with
      // catchup=False all but the latest stand down (scheduledDagRun), as in Airflow.
      catchupWindow: '365 days',
    },
    memo: { baton: true, dagId: dag.dagId, owner: dag.defaultArgs.owner, description: dag.description },
  };
}

/** How far ahead a sync checks Temporal's matching times against Baton's fires: two of each clock change. */
export const VERIFY_DAYS = 2 * 366;

/** The most times Temporal returns for one ListScheduleMatchingTimes call. */
const MATCHING_PAGE = 1000;

/** The times a schedule's spec matches in [from, to), as `temporal schedule list-matching-times` prints them (page after page). */
export async function matchingTimes(client: Client, scheduleId: string, from: number, to: number): Promise<number[]> {
  const times: number[] = [];
  for (let start = from; start < to;) {
    const { startTime } = await client.workflowService.listScheduleMatchingTimes({
      namespace: client.options.namespace,
      scheduleId,
      startTime: msToTs(start),
      endTime: msToTs(to),
    });
    const page = (startTime ?? []).map((t) => tsToMs(t)).filter((t) => t >= start && t < to);
    times.push(...page.filter((t) => t > (times.at(-1) ?? -Infinity)));
    if ((startTime ?? []).length < MATCHING_PAGE || !page.length) break;
    start = page.at(-1)! + 1;
  }
  return times;
}

/**
 * The spans a sync checks: all of [from, to) for a DAG that runs at most daily; for a sub-daily
 * one (thousands of fires a year), its first week and the days around each change of the zone's
 * offset, where a calendar and the clock can disagree.
 */
export function verifySpans(dag: Pick<CronDagDefinition, 'schedule' | 'timezone'>, from: number, to: number): Array<[number, number]> {
  if (!isSubDaily(dag)) return [[from, to]];
  const spans: Array<[number, number]> = [[from, Math.min(to, from + 7 * DAY_MS)]];
  for (let day = from; day < to; day += DAY_MS) {
    if (offsetAt(day, dag.timezone) === offsetAt(day + DAY_MS, dag.timezone)) continue;
    const span: [number, number] = [Math.max(from, day - DAY_MS), Math.min(to, day + 3 * DAY_MS)];
    const last = spans.at(-1)!;
    if (span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else spans.push(span);
  }
  return spans;
}

/**
 * Checks, on a paused copy of the schedule, that Temporal fires at every time Baton's cron
 * does over the next VERIFY_DAYS. A time Temporal would match that the cron does not gets a
 * `skip` entry; a fire Temporal would miss refuses the DAG, naming it and the field.
 */
export async function verifiedScheduleOptions(client: Client, dag: CronDagDefinition, now = Date.now()): Promise<ScheduleOptions> {
  const options = scheduleOptionsFor(dag);
  const from = Math.max(now, (options.spec.startAt as Date).getTime());
  const to = Math.min(from + VERIFY_DAYS * 86_400_000, options.spec.endAt ? (options.spec.endAt as Date).getTime() : Infinity);
  if (to <= from) return options;
  const probeId = `baton-verify-${dag.dagId}-${now.toString(36)}`;
  await client.schedule.create({ ...options, scheduleId: probeId, memo: {}, state: { paused: true, note: `Baton checks ${dag.dagId}'s schedule` } });
  const expected: number[] = [];
  const matched: number[] = [];
  try {
    for (const [start, end] of verifySpans(dag, from, to)) {
      for (const t of firesAfter(dag.schedule, dag.timezone, start - 1)) {
        if (t >= end) break;
        expected.push(t);
      }
      matched.push(...(await matchingTimes(client, probeId, start, end)));
    }
  } finally {
    await client.schedule.getHandle(probeId).delete();
  }
  const canonical = new Set(matched.map((t) => canonicalFire(t, dag.timezone, dag.schedule)));
  const missed = expected.filter((t) => !canonical.has(t));
  if (missed.length) {
    const shown = missed
      .slice(0, 3)
      .map((t) => new Date(t).toISOString())
      .join(', ');
    throw new InvalidDagDefinition(
      `DAG ${JSON.stringify(dag.dagId)}: schedule ${JSON.stringify(dag.schedule)} in ${dag.timezone}: Temporal would not fire at ${missed.length} of its times (${shown}); Baton cannot make this cron fire as Airflow would`,
    );
  }
  const strays = matched.filter((t) => !isFireTime(dag.schedule, dag.timezone, t));
  if (strays.length) {
    options.spec.skip = strays.map((t) => exactLocalTime(t, dag.timezone, `${dag.schedule}: Temporal matches this time, the cron does not`));
  }
  return options;
}

/**
 * Creates the DAG's schedule, or updates it in place when the DAG changed, keeping its
 * paused state. catchup=True: creating it also runs every missed interval since start_date.
 * A DAG scheduled on assets alone has none: the schedule it had with a cron is deleted.
 */
export async function syncSchedule(client: Client, dag: DagDefinition, now = new Date()): Promise<SyncOutcome> {
  validateDag(dag);
  const handle = client.schedule.getHandle(dag.dagId);
  let existing;
  try {
    existing = await handle.describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  if (!hasCron(dag)) {
    // Its cron would go on starting runs that its file no longer asks for.
    if (!existing || existing.memo?.baton !== true) return 'none';
    await handle.delete();
    return 'deleted';
  }
  const memo = existing?.action.type === 'startWorkflow' ? existing.action.memo : undefined;
  if (memo?.fingerprint === scheduleFingerprint(dag)) return 'unchanged';
  const options = await verifiedScheduleOptions(client, dag, now.getTime());
  if (!existing) {
    if (dag.pausedOnCreation) {
      await client.schedule.create({
        ...options,
        state: { ...options.state, paused: true, note: `paused on creation: baton unpause ${dag.dagId} starts its runs` },
      });
      return 'created';
    }
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
