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
