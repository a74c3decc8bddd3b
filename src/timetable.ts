/**
 * Airflow timetables: which logical date a scheduled fire time stands for. Pure, and used
 * inside workflows, so a scheduled run derives its ds from its scheduled time, never from the
 * clock at run time.
 */
import { CronExpressionParser } from 'cron-parser';
import type { DagDefinition } from './dags';

export interface DataInterval {
  ds: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
}

/** The calendar date of `instant` in `timeZone`, YYYY-MM-DD. */
export function dateIn(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(instant)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/**
 * `interval` (Airflow 2's cron timetable): the run firing at the end of an interval covers
 * [previous fire, this fire) and its ds is the interval's start date.
 * `trigger` (Airflow 3's CronTriggerTimetable): ds is the fire date.
 */
export function intervalForFireTime(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>, fireTime: Date): DataInterval {
  if (dag.timetable === 'trigger') {
    const iso = fireTime.toISOString();
    return { ds: dateIn(fireTime, dag.timezone), dataIntervalStart: iso, dataIntervalEnd: iso };
  }
  const previous = CronExpressionParser.parse(dag.schedule, { currentDate: fireTime, tz: dag.timezone }).prev().toDate();
  return {
    ds: dateIn(previous, dag.timezone),
    dataIntervalStart: previous.toISOString(),
    dataIntervalEnd: fireTime.toISOString(),
  };
}

/** The first instant of the calendar date `ds` in `timeZone`. */
export function startOfDay(ds: string, timeZone: string): Date {
  const midnights = CronExpressionParser.parse('0 0 * * *', { currentDate: new Date(Date.parse(`${ds}T00:00:00Z`) - 2 * 86_400_000), tz: timeZone });
  for (let i = 0; i < 5; i++) {
    const t = midnights.next().toDate();
    if (dateIn(t, timeZone) >= ds) return t;
  }
  throw new Error(`no midnight found for ${ds} in ${timeZone}`);
}

function firstFireOn(dag: Pick<DagDefinition, 'schedule' | 'timezone'>, ds: string): Date {
  const dayStart = startOfDay(ds, dag.timezone);
  return CronExpressionParser.parse(dag.schedule, { currentDate: new Date(dayStart.getTime() - 1), tz: dag.timezone }).next().toDate();
}

/**
 * The data interval of the run for `ds` (a manual or backfilled run): in both timetables the
 * run for `ds` is the one whose interval starts with the schedule's first fire on `ds`.
 */
export function intervalForLogicalDate(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>, ds: string): DataInterval {
  const start = firstFireOn(dag, ds);
  if (dag.timetable === 'trigger') return { ds, dataIntervalStart: start.toISOString(), dataIntervalEnd: start.toISOString() };
  const end = CronExpressionParser.parse(dag.schedule, { currentDate: start, tz: dag.timezone }).next().toDate();
  return { ds, dataIntervalStart: start.toISOString(), dataIntervalEnd: end.toISOString() };
}

/**
 * The logical date of the run before the one for `ds`, as depends_on_past sees it: the date of
 * the schedule's last fire before its first fire on `ds` (the same rule in both timetables).
 */
export function previousLogicalDate(dag: Pick<DagDefinition, 'schedule' | 'timezone'>, ds: string): string {
  const before = CronExpressionParser.parse(dag.schedule, { currentDate: firstFireOn(dag, ds), tz: dag.timezone }).prev().toDate();
  return dateIn(before, dag.timezone);
}

/** Logical dates from `from` to `to` (inclusive) that the schedule has a run for, oldest first. */
export function logicalDatesBetween(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>, from: string, to: string): string[] {
  const dates: string[] = [];
  const cron = CronExpressionParser.parse(dag.schedule, { currentDate: new Date(startOfDay(from, dag.timezone).getTime() - 1), tz: dag.timezone });
  for (;;) {
    const ds = dateIn(cron.next().toDate(), dag.timezone);
    if (ds > to) return dates;
    if (dates.at(-1) !== ds) dates.push(ds);
  }
}
