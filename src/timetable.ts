/**
 * Airflow timetables: which logical date a scheduled fire time stands for. Pure, and used
 * inside workflows, so a scheduled run derives its ds from its scheduled time, never from the
 * clock at run time.
 */
import { canonicalFire, firesAfter, nextFire, previousFire } from './cron';
import { localDate, startOfLocalDay } from './zoned-time';
import type { DagDefinition } from './dags';

export interface DataInterval {
  ds: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
}

/** The calendar date of `instant` in `timeZone`, YYYY-MM-DD. */
export function dateIn(instant: Date, timeZone: string): string {
  return localDate(instant.getTime(), timeZone);
}

/**
 * `interval` (Airflow 2's cron timetable): the run firing at the end of an interval covers
 * [previous fire, this fire) and its ds is the interval's start date.
 * `trigger` (Airflow 3's CronTriggerTimetable): ds is the fire date.
 */
export function intervalForFireTime(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>, fireTime: Date): DataInterval {
  // Temporal may match a repeated local time at its second occurrence too: the fire it stands for.
  fireTime = new Date(canonicalFire(fireTime.getTime(), dag.timezone));
  if (dag.timetable === 'trigger') {
    const iso = fireTime.toISOString();
    return { ds: dateIn(fireTime, dag.timezone), dataIntervalStart: iso, dataIntervalEnd: iso };
  }
  const previous = new Date(previousFire(dag.schedule, dag.timezone, fireTime.getTime()));
  return {
    ds: dateIn(previous, dag.timezone),
    dataIntervalStart: previous.toISOString(),
    dataIntervalEnd: fireTime.toISOString(),
  };
}

/** The first instant of the calendar date `ds` in `timeZone`. */
export function startOfDay(ds: string, timeZone: string): Date {
  return new Date(startOfLocalDay(ds, timeZone));
}

function firstFireOn(dag: Pick<DagDefinition, 'schedule' | 'timezone'>, ds: string): Date {
  const dayStart = startOfDay(ds, dag.timezone);
  return new Date(nextFire(dag.schedule, dag.timezone, dayStart.getTime() - 1));
}

/**
 * The data interval of the run for `ds` (a manual or backfilled run): in both timetables the
 * run for `ds` is the one whose interval starts with the schedule's first fire on `ds`.
 */
export function intervalForLogicalDate(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>, ds: string): DataInterval {
  const start = firstFireOn(dag, ds);
  if (dag.timetable === 'trigger') return { ds, dataIntervalStart: start.toISOString(), dataIntervalEnd: start.toISOString() };
  const end = new Date(nextFire(dag.schedule, dag.timezone, start.getTime()));
  return { ds, dataIntervalStart: start.toISOString(), dataIntervalEnd: end.toISOString() };
}

/**
 * The logical date of the run before the one for `ds`, as depends_on_past sees it: the date of
 * the schedule's last fire before its first fire on `ds` (the same rule in both timetables).
 */
export function previousLogicalDate(dag: Pick<DagDefinition, 'schedule' | 'timezone'>, ds: string): string {
  return localDate(previousFire(dag.schedule, dag.timezone, firstFireOn(dag, ds).getTime()), dag.timezone);
}

/** Logical dates from `from` to `to` (inclusive) that the schedule has a run for, oldest first. */
export function logicalDatesBetween(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>, from: string, to: string): string[] {
  const dates: string[] = [];
  for (const fire of firesAfter(dag.schedule, dag.timezone, startOfDay(from, dag.timezone).getTime() - 1)) {
    const ds = localDate(fire, dag.timezone);
    if (ds > to) return dates;
    if (dates.at(-1) !== ds) dates.push(ds);
  }
  return dates;
}

/**
 * The fire time of the run for the DAG's last logical date on or before `endDate`: the
 * schedule ends right after it, whatever the cron.
 */
export function lastFireTime(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>, endDate: string): Date {
  const dayAfter = new Date(Date.parse(`${endDate}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const lastStart = previousFire(dag.schedule, dag.timezone, startOfDay(dayAfter, dag.timezone).getTime());
  return new Date(dag.timetable === 'trigger' ? lastStart : nextFire(dag.schedule, dag.timezone, lastStart));
}

/** The next `n` logical dates the schedule will start runs for, after `from`. */
export function nextLogicalDates(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable' | 'startDate' | 'endDate'>, n: number, from: Date): string[] {
  const dates: string[] = [];
  for (const fire of firesAfter(dag.schedule, dag.timezone, from.getTime())) {
    const { ds } = intervalForFireTime(dag, new Date(fire));
    if (dag.endDate && ds > dag.endDate) break;
    if (ds >= dag.startDate) dates.push(ds);
    if (dates.length === n) break;
  }
  return dates;
}
