/**
 * Airflow timetables: which logical date a scheduled fire time stands for, and which run an
 * asset's partition starts. Pure, and used inside workflows, so a scheduled run derives its ds
 * from its scheduled time, never from the clock at run time.
 */
import { canonicalFire, firesAfter, firesMoreThanDaily, isFireTime, nextFire, previousFire } from './cron';
import { addDays, formatTs, InvalidLogicalDate, isTsKey, parseDs, parseTs } from './logical-date';
import { localDate, startOfLocalDay } from './zoned-time';
import type { DagDefinition } from './dags';

export interface DataInterval {
  ds: string;
  /** The logical timestamp: the interval's start (the fire time with the trigger timetable), `2024-01-15T13:00:00+00:00`. */
  ts?: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
}

/** A DAG's timetable: a cron, or none for a DAG scheduled on assets alone. */
type Timetable = Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable'>;
/** The timetable of a DAG with a cron: what fire times and intervals are computed from. */
type CronTimetable = Omit<Timetable, 'schedule'> & { schedule: string };

/** Whether the DAG runs more than once a day: its runs are then keyed (and named) by ts, not ds. */
export const isSubDaily = (dag: Pick<DagDefinition, 'schedule'>) => dag.schedule !== null && firesMoreThanDaily(dag.schedule);

/**
 * The run's key among the DAG's runs (its workflow id is `<dag_id>-<key>`): ts for a sub-daily
 * DAG, ds for the others; for a DAG scheduled on assets alone, its partition (a ts partition's
 * interval is the instant itself, a date's the whole day).
 */
export const runKeyOf = (dag: Pick<DagDefinition, 'schedule'>, interval: DataInterval) => {
  if (dag.schedule === null) return interval.ts !== undefined && interval.dataIntervalStart === interval.dataIntervalEnd ? interval.ts : interval.ds;
  return isSubDaily(dag) ? (interval.ts ?? formatTs(Date.parse(interval.dataIntervalStart))) : interval.ds;
};

/** The calendar date of `instant` in `timeZone`, YYYY-MM-DD. */
export function dateIn(instant: Date, timeZone: string): string {
  return localDate(instant.getTime(), timeZone);
}

/**
 * `interval` (Airflow 2's cron timetable): the run firing at the end of an interval covers
 * [previous fire, this fire) and its ds is the interval's start date.
 * `trigger` (Airflow 3's CronTriggerTimetable): ds is the fire date.
 */
export function intervalForFireTime(dag: CronTimetable, fireTime: Date): DataInterval {
  // Temporal may match a repeated local time at its second occurrence too: the fire it stands for.
  fireTime = new Date(canonicalFire(fireTime.getTime(), dag.timezone, dag.schedule));
  if (dag.timetable === 'trigger') {
    const iso = fireTime.toISOString();
    return { ds: dateIn(fireTime, dag.timezone), ts: formatTs(fireTime.getTime()), dataIntervalStart: iso, dataIntervalEnd: iso };
  }
  const previous = new Date(previousFire(dag.schedule, dag.timezone, fireTime.getTime()));
  return {
    ds: dateIn(previous, dag.timezone),
    ts: formatTs(previous.getTime()),
    dataIntervalStart: previous.toISOString(),
    dataIntervalEnd: fireTime.toISOString(),
  };
}

/** The first instant of the calendar date `ds` in `timeZone`. */
export function startOfDay(ds: string, timeZone: string): Date {
  return new Date(startOfLocalDay(ds, timeZone));
}

function firstFireOn(dag: Pick<CronTimetable, 'schedule' | 'timezone'>, ds: string): Date {
  const dayStart = startOfDay(ds, dag.timezone);
  return new Date(nextFire(dag.schedule, dag.timezone, dayStart.getTime() - 1));
}

/**
 * The data interval of the run for `ds` (a manual or backfilled run): in both timetables the
 * run for `ds` is the one whose interval starts with the schedule's first fire on `ds`.
 */
export function intervalForLogicalDate(dag: CronTimetable, ds: string): DataInterval {
  const start = firstFireOn(dag, ds);
  const ts = formatTs(start.getTime());
  if (dag.timetable === 'trigger') return { ds, ts, dataIntervalStart: start.toISOString(), dataIntervalEnd: start.toISOString() };
  const end = new Date(nextFire(dag.schedule, dag.timezone, start.getTime()));
  return { ds, ts, dataIntervalStart: start.toISOString(), dataIntervalEnd: end.toISOString() };
}

/**
 * The data interval of a sub-daily DAG's run for the logical timestamp `ts` (its interval's
 * start, or its fire time with the trigger timetable), which must be one of the schedule's fire
 * times: any other is refused, naming the fires around it.
 */
export function intervalForTimestamp(dag: CronTimetable, ts: string): DataInterval {
  const instant = parseTs(ts);
  // A repeated local time the cron fires at once stands for its first occurrence only (unless the cron covers every hour).
  if (!isFireTime(dag.schedule, dag.timezone, instant) || canonicalFire(instant, dag.timezone, dag.schedule) !== instant) {
    const before = previousFire(dag.schedule, dag.timezone, instant + 1);
    const after = nextFire(dag.schedule, dag.timezone, instant);
    throw new InvalidLogicalDate(
      `ts ${JSON.stringify(ts)} is not one of the schedule's times (${dag.schedule} in ${dag.timezone}); the nearest are ${formatTs(before)} and ${formatTs(after)}`,
    );
  }
  const start = new Date(instant);
  const end = dag.timetable === 'trigger' ? start : new Date(nextFire(dag.schedule, dag.timezone, instant));
  return { ds: dateIn(start, dag.timezone), ts: formatTs(instant), dataIntervalStart: start.toISOString(), dataIntervalEnd: end.toISOString() };
}

/**
 * The data interval of a run of a DAG scheduled on assets alone, named by its partition: a date
 * is that whole local day, a timestamp the instant itself (Airflow's asset-triggered runs).
 */
export function intervalForPartition(dag: Pick<DagDefinition, 'timezone'>, partition: string): DataInterval {
  if (isTsKey(partition)) {
    const instant = parseTs(partition, 'partition');
    const at = new Date(instant).toISOString();
    return { ds: localDate(instant, dag.timezone), ts: formatTs(instant), dataIntervalStart: at, dataIntervalEnd: at };
  }
  const start = startOfDay(parseDs(partition, 'partition'), dag.timezone);
  const end = startOfDay(nextDay(partition), dag.timezone);
  return { ds: partition, ts: formatTs(start.getTime()), dataIntervalStart: start.toISOString(), dataIntervalEnd: end.toISOString() };
}

/**
 * The data interval of the run with this key: a ds for a DAG that runs at most daily, a ts for a
 * sub-daily one (else a clear error); for a DAG scheduled on assets alone, either (its partition).
 */
export function intervalForKey(dag: Timetable & Pick<DagDefinition, 'dagId'>, key: string): DataInterval {
  if (dag.schedule === null) return intervalForPartition(dag, key);
  const cron: CronTimetable = { schedule: dag.schedule, timezone: dag.timezone, timetable: dag.timetable };
  if (isSubDaily(cron)) {
    if (!isTsKey(key))
      throw new InvalidLogicalDate(
        `${dag.dagId} runs more than once a day (${dag.schedule}): a run is named by its ts, such as ${formatTs(firstFireOn(cron, parseDs(key)).getTime())}, not by the date ${key}`,
      );
    return intervalForTimestamp(cron, key);
  }
  if (isTsKey(key))
    throw new InvalidLogicalDate(
      `${dag.dagId} runs at most once a day (${dag.schedule}): a run is named by its ds (YYYY-MM-DD), not by the timestamp ${JSON.stringify(key)}`,
    );
  return intervalForLogicalDate(cron, parseDs(key));
}

/**
 * The run of `dag` an update of one of its assets for `partition` starts: its key (the
 * partition, as the DAG's runs are named) and ds. A DAG with a cron takes the partitions its
 * timetable names runs by (dates, or the fire times of a sub-daily DAG); one scheduled on assets
 * alone takes any date or timestamp. A partition outside start_date..end_date starts nothing, as a
 * fire there would not. Throws InvalidLogicalDate saying why.
 */
export function assetRunKey(dag: Timetable & Pick<DagDefinition, 'dagId' | 'startDate' | 'endDate'>, partition: string): { key: string; ds: string } {
  const interval = intervalForKey(dag, partition);
  if (interval.ds < dag.startDate) throw new InvalidLogicalDate(`partition ${partition} is before ${dag.dagId}'s start_date ${dag.startDate}`);
  if (dag.endDate && interval.ds > dag.endDate) throw new InvalidLogicalDate(`partition ${partition} is after ${dag.dagId}'s end_date ${dag.endDate}`);
  return { key: runKeyOf(dag, interval), ds: interval.ds };
}

/** An asset's partition as written in run keys: a date as it is, a timestamp as Airflow writes ts (UTC, +00:00). */
export function canonicalPartition(partition: string, field = 'partition'): string {
  return isTsKey(partition) ? formatTs(parseTs(partition, field)) : parseDs(partition, field);
}

/** The local date of a run's key (a ts's date in the DAG's zone). */
export const dateOfKey = (dag: Pick<DagDefinition, 'timezone'>, key: string) => (isTsKey(key) ? localDate(parseTs(key), dag.timezone) : key);

/** The key of the run before the one with `key`, as depends_on_past sees it. */
export function previousKey(dag: CronTimetable, key: string): string {
  if (!isTsKey(key)) return previousLogicalDate(dag, key);
  return formatTs(previousFire(dag.schedule, dag.timezone, parseTs(key)));
}

/**
 * The keys of the runs from `from` to `to`, inclusive, oldest first: for a daily DAG its dates;
 * for a sub-daily one the ts of every interval whose ts is in the range, `from` and `to` being
 * timestamps or dates (a date is that whole local day).
 */
export function keysBetween(dag: Timetable, from: string, to: string): string[] {
  if (dag.schedule === null) return partitionDatesBetween(from, to);
  const cron: CronTimetable = { schedule: dag.schedule, timezone: dag.timezone, timetable: dag.timetable };
  if (!isSubDaily(cron)) return logicalDatesBetween(cron, from, to);
  const start = isTsKey(from) ? parseTs(from, '--from') : startOfDay(parseDs(from, '--from'), dag.timezone).getTime();
  const end = isTsKey(to) ? parseTs(to, '--to') + 1 : startOfDay(nextDay(parseDs(to, '--to')), dag.timezone).getTime();
  const keys: string[] = [];
  for (const fire of firesAfter(cron.schedule, dag.timezone, start - 1)) {
    if (fire >= end || keys.length > MAX_KEYS) break;
    keys.push(formatTs(fire));
  }
  return keys;
}

/** Past this many keys, a range stops being listed (the backfill refuses it, naming the count). */
const MAX_KEYS = 100_000;

/** A DAG scheduled on assets alone is backfilled by dates: every day from `from` to `to`. */
function partitionDatesBetween(from: string, to: string): string[] {
  if (isTsKey(from) || isTsKey(to)) throw new InvalidLogicalDate('a DAG scheduled on assets alone is backfilled by dates YYYY-MM-DD');
  const dates: string[] = [];
  for (let ds = parseDs(from, '--from'); ds <= parseDs(to, '--to') && dates.length <= MAX_KEYS; ds = addDays(ds, 1)) dates.push(ds);
  return dates;
}

const nextDay = (ds: string) => new Date(Date.parse(`${ds}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * The logical date of the run before the one for `ds`, as depends_on_past sees it: the date of
 * the schedule's last fire before its first fire on `ds` (the same rule in both timetables).
 */
export function previousLogicalDate(dag: Pick<CronTimetable, 'schedule' | 'timezone'>, ds: string): string {
  return localDate(previousFire(dag.schedule, dag.timezone, firstFireOn(dag, ds).getTime()), dag.timezone);
}

/** Logical dates from `from` to `to` (inclusive) that the schedule has a run for, oldest first. */
export function logicalDatesBetween(dag: CronTimetable, from: string, to: string): string[] {
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
export function lastFireTime(dag: CronTimetable, endDate: string): Date {
  const dayAfter = new Date(Date.parse(`${endDate}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const lastStart = previousFire(dag.schedule, dag.timezone, startOfDay(dayAfter, dag.timezone).getTime());
  return new Date(dag.timetable === 'trigger' ? lastStart : nextFire(dag.schedule, dag.timezone, lastStart));
}

/** The next `n` logical dates (ts for a sub-daily DAG) the schedule will start runs for, after `from`; none without a cron. */
export function nextLogicalDates(dag: Pick<DagDefinition, 'schedule' | 'timezone' | 'timetable' | 'startDate' | 'endDate'>, n: number, from: Date): string[] {
  const dates: string[] = [];
  if (dag.schedule === null) return dates;
  const cron: CronTimetable = { schedule: dag.schedule, timezone: dag.timezone, timetable: dag.timetable };
  for (const fire of firesAfter(cron.schedule, dag.timezone, from.getTime())) {
    const interval = intervalForFireTime(cron, new Date(fire));
    const { ds } = interval;
    if (dag.endDate && ds > dag.endDate) break;
    if (ds >= dag.startDate) dates.push(runKeyOf(dag, interval));
    if (dates.length === n) break;
  }
  return dates;
}
