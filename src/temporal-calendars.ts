/**
 * A cron as Temporal Schedule calendar entries, matching exactly the fires src/cron.ts reads
 * from it. Pure: no client import, so the types stay structural.
 */
import { coversEveryHour, matchesDay, parseCron, type Cron } from './cron';
import { DAY_MS, dayNumber, offsetAt, resolveWallTime, wallTime } from './zoned-time';

const TEMPORAL_MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;
const TEMPORAL_DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

type Span<T> = { start: T; end: T };

/** A Temporal Schedule calendar entry (the client's CalendarSpec, kept structural so workflows need no client import). */
export interface TemporalCalendar {
  minute: Array<Span<number>>;
  hour: Array<Span<number>>;
  dayOfMonth: Array<Span<number>> | '*';
  month: Array<Span<(typeof TEMPORAL_MONTHS)[number]>> | '*';
  dayOfWeek: Array<Span<(typeof TEMPORAL_DAYS)[number]>> | '*';
  year?: Array<Span<number>>;
  comment?: string;
}

/** One Temporal range per value (`end` given: the client reads a missing end as 0). */
const each = (values: readonly number[]) => values.map((start) => ({ start, end: start }));

/**
 * The cron as Temporal calendar entries in the schedule's zone. Temporal matches a calendar's
 * day fields with AND and skips a local time that does not exist, so: the day-of-month OR
 * day-of-week case becomes two entries, and each day in [fromYear, toYear] on which the cron's
 * time falls in a gap gets an entry of its own at the first valid time after the gap.
 */
export function temporalCalendars(expression: string, timeZone: string, fromYear: number, toYear: number): TemporalCalendar[] {
  const cron = parseCron(expression);
  const month: TemporalCalendar['month'] =
    cron.months.length === 12 ? '*' : cron.months.map((m) => ({ start: TEMPORAL_MONTHS[m - 1], end: TEMPORAL_MONTHS[m - 1] }));
  const base = { minute: each(cron.minutes), hour: each(cron.hours), month };
  const days = (dom: boolean, dow: boolean) => ({
    dayOfMonth: dom && cron.daysOfMonth.length < 31 ? each(cron.daysOfMonth) : ('*' as const),
    dayOfWeek: dow && cron.daysOfWeek.length < 7 ? cron.daysOfWeek.map((d) => ({ start: TEMPORAL_DAYS[d], end: TEMPORAL_DAYS[d] })) : ('*' as const),
  });
  const calendars: TemporalCalendar[] =
    cron.domStar || cron.dowStar
      ? [{ ...base, ...days(true, true), comment: expression }]
      : [
          { ...base, ...days(true, false), comment: `${expression} (its day-of-month)` },
          { ...base, ...days(false, true), comment: `${expression} (its day-of-week)` },
        ];
  // A cron covering every hour skips a time in the gap (see src/cron.ts): no entry for it.
  for (const fire of coversEveryHour(cron) ? [] : gapFires(cron, timeZone, fromYear, toYear)) {
    const day = new Date(wallTime(fire, timeZone)).toISOString().slice(0, 10);
    calendars.push(exactLocalTime(fire, timeZone, `${expression}: its time does not exist on ${day} (clocks go forward); the first valid time after the gap`));
  }
  return calendars;
}

/** The cron's fires that land at the end of a gap (their local time does not exist), in [fromYear, toYear]. */
function gapFires(cron: Cron, timeZone: string, fromYear: number, toYear: number): number[] {
  const fires: number[] = [];
  const last = dayNumber(toYear, 12, 31);
  let offset = offsetAt(dayNumber(fromYear, 1, 1) * DAY_MS, timeZone);
  for (let day = dayNumber(fromYear, 1, 1); day <= last; day++) {
    // A gap on `day` shows as a larger offset at the next day's start than at this day's.
    const next = offsetAt((day + 1) * DAY_MS, timeZone);
    if (next > offset) {
      for (const d of [day, day + 1]) {
        if (!matchesDay(cron, d)) continue;
        for (const h of cron.hours) {
          for (const min of cron.minutes) {
            const { instants, gapEnd } = resolveWallTime(d * DAY_MS + (h * 60 + min) * 60_000, timeZone);
            if (!instants.length && !fires.includes(gapEnd!)) fires.push(gapEnd!);
          }
        }
      }
    }
    offset = next;
  }
  return fires.sort((a, b) => a - b);
}

/** A Temporal calendar entry matching one local time (a `skip` entry for a time the cron does not fire at). */
export function exactLocalTime(instant: number, timeZone: string, comment: string): TemporalCalendar {
  const wall = new Date(wallTime(instant, timeZone));
  return {
    minute: each([wall.getUTCMinutes()]),
    hour: each([wall.getUTCHours()]),
    dayOfMonth: each([wall.getUTCDate()]),
    month: [{ start: TEMPORAL_MONTHS[wall.getUTCMonth()], end: TEMPORAL_MONTHS[wall.getUTCMonth()] }],
    dayOfWeek: '*',
    year: each([wall.getUTCFullYear()]),
    comment,
  };
}

/** A Temporal Schedule interval entry (the client's IntervalSpec, structural), in milliseconds. */
export interface TemporalInterval {
  every: number;
  offset: number;
}

/** The schedule's spec for the cron: calendar entries in its zone, and interval entries in absolute time. */
export interface TemporalSpec {
  calendars: TemporalCalendar[];
  intervals: TemporalInterval[];
}

const HOUR_MS = 3_600_000;
/** An interval this long fires once in the years a schedule covers: an entry for one instant. */
const ONCE_MS = 200 * 365 * DAY_MS;

/**
 * The cron as a Temporal Schedule spec. A cron fires as src/cron.ts reads it: most crons as
 * calendar entries (temporalCalendars). A cron covering every hour follows the clock in absolute
 * time, which Temporal's calendars do not (in some zones they match a repeated hour once): on
 * every day, in a zone whose offset keeps its minutes, it is one interval entry per minute of the
 * hour; else calendar entries, with an entry of its own for each fire in a repeated hour.
 */
export function temporalSpec(expression: string, timeZone: string, fromYear: number, toYear: number): TemporalSpec {
  const cron = parseCron(expression);
  if (!coversEveryHour(cron)) return { calendars: temporalCalendars(expression, timeZone, fromYear, toYear), intervals: [] };
  const everyDay = cron.months.length === 12 && cron.daysOfMonth.length === 31 && cron.daysOfWeek.length === 7;
  const shift = hourShift(timeZone, fromYear, toYear);
  if (everyDay && shift !== undefined) {
    return { calendars: [], intervals: cron.minutes.map((m) => ({ every: HOUR_MS, offset: (((m * 60_000 - shift) % HOUR_MS) + HOUR_MS) % HOUR_MS })) };
  }
  const intervals = repeatedHourFires(cron, timeZone, fromYear, toYear).map((t) => ({ every: ONCE_MS, offset: t }));
  return { calendars: temporalCalendars(expression, timeZone, fromYear, toYear), intervals };
}

/** The zone's offset within the hour (ms) when it is the same in every year from fromYear to toYear, else undefined. */
function hourShift(timeZone: string, fromYear: number, toYear: number): number | undefined {
  const shiftAt = (day: number) => ((offsetAt(day * DAY_MS, timeZone) % HOUR_MS) + HOUR_MS) % HOUR_MS;
  const first = shiftAt(dayNumber(fromYear, 1, 1));
  for (let day = dayNumber(fromYear, 1, 1); day <= dayNumber(toYear, 12, 31); day++) if (shiftAt(day) !== first) return undefined;
  return first;
}

/** Every instant of a repeated local time the cron fires at, on the days it runs, in [fromYear, toYear]. */
function repeatedHourFires(cron: Cron, timeZone: string, fromYear: number, toYear: number): number[] {
  const fires: number[] = [];
  let offset = offsetAt(dayNumber(fromYear, 1, 1) * DAY_MS, timeZone);
  for (let day = dayNumber(fromYear, 1, 1); day <= dayNumber(toYear, 12, 31); day++) {
    const next = offsetAt((day + 1) * DAY_MS, timeZone);
    if (next < offset) {
      for (const d of [day, day + 1]) {
        if (!matchesDay(cron, d)) continue;
        for (const h of cron.hours)
          for (const min of cron.minutes) {
            const { instants } = resolveWallTime(d * DAY_MS + (h * 60 + min) * 60_000, timeZone);
            if (instants.length === 2) for (const t of instants) if (!fires.includes(t)) fires.push(t);
          }
      }
    }
    offset = next;
  }
  return fires.sort((a, b) => a - b);
}
