/**
 * Cron schedules with one meaning everywhere: Baton's logical dates, the backfill's dates and
 * the Temporal Schedule's fire times are all computed from this module.
 *
 * - Classic (Vixie) cron fields: minute hour day-of-month month day-of-week, with numbers,
 *   names (jan-dec, sun-sat), `*`, ranges `a-b`, lists and steps `/n`; `@daily`, `@weekly`,
 *   `@monthly` and `@yearly`. When day-of-month and day-of-week are both restricted, a day
 *   matches either (`0 6 1 * 1`: the 1st, and every Monday); a field starting with `*` leaves
 *   the other one alone, as in cron and Airflow.
 * - Local times in the DAG's zone. A time that does not exist (spring forward) fires at the
 *   first valid instant after the gap; a time that happens twice (autumn's repeated hour)
 *   fires once, at its first occurrence, as cron does. Temporal may match such a time at
 *   either occurrence or at both; `canonicalFire` maps each onto the one fire it stands for,
 *   so a logical date still runs once and never before its interval ends.
 *
 * Pure and deterministic: used inside workflows.
 */

export class CronError extends Error {
  override name = 'CronError';
}

export interface Cron {
  expression: string;
  minutes: readonly number[];
  hours: readonly number[];
  daysOfMonth: readonly number[];
  months: readonly number[];
  /** 0 = Sunday. */
  daysOfWeek: readonly number[];
  /** A field written starting with `*` (then the two day fields are combined with AND). */
  domStar: boolean;
  dowStar: boolean;
}

const PRESETS: Record<string, string> = {
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The first name's number (jan is 1, sun is 0). */
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  // 7 is Sunday too, as in cron.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0 },
];

const SYNTAX = 'Baton accepts numbers, names, *, ranges a-b, lists a,b and steps /n; not L, W, #, ? or H';

const ITEM = /^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d+))?$/;

function parseField(text: string, spec: FieldSpec, expression: string): number[] {
  const fail = (why: string): never => {
    throw new CronError(`cron ${JSON.stringify(expression)}: ${spec.name} ${JSON.stringify(text)} ${why}`);
  };
  const value = (token: string): number => {
    const named = spec.names?.indexOf(token) ?? -1;
    if (named >= 0) return named + (spec.nameBase ?? 0);
    if (!/^\d+$/.test(token)) fail(`is not supported: ${JSON.stringify(token)} is not a number${spec.names ? ' or a name' : ''} (${SYNTAX})`);
    const n = Number(token);
    if (n < spec.min || n > spec.max) fail(`has ${n}, outside ${spec.min}-${spec.max}`);
    return n;
  };
  const values = new Set<number>();
  for (const item of text.toLowerCase().split(',')) {
    const m = ITEM.exec(item);
    if (!m) fail(`is not supported (${SYNTAX})`);
    const [, first, last, stepText] = m!;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) fail('has a step of 0');
    let from = spec.min;
    let to = spec.max === 7 ? 6 : spec.max;
    if (first !== '*') {
      from = value(first);
      // `a/n` runs from a to the field's end, as croniter reads it; a bare `a` is just a.
      to = last !== undefined ? value(last) : stepText !== undefined ? to : from;
    } else if (last !== undefined) fail('has a range starting with *');
    if (from > to) fail(`has the range ${from}-${to}, which runs backwards`);
    for (let v = from; v <= to; v += step) values.add(spec.max === 7 && v === 7 ? 0 : v);
  }
  return [...values].sort((a, b) => a - b);
}

const parsed = new Map<string, Cron>();

/** Parses a five-field cron (or a preset); CronError names the field and what is wrong. */
export function parseCron(expression: string): Cron {
  const cached = parsed.get(expression);
  if (cached) return cached;
  const trimmed = expression.trim();
  const text = PRESETS[trimmed.toLowerCase()] ?? trimmed;
  if (text.startsWith('@')) throw new CronError(`cron ${JSON.stringify(expression)}: unknown preset (Baton knows ${Object.keys(PRESETS).join(', ')})`);
  const fields = text.split(/\s+/);
  if (fields.length !== 5) throw new CronError(`cron ${JSON.stringify(expression)} must have 5 fields (minute hour day month weekday), found ${fields.length}`);
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = fields.map((f, i) => parseField(f, FIELDS[i], expression));
  const cron: Cron = { expression, minutes, hours, daysOfMonth, months, daysOfWeek, domStar: fields[2].startsWith('*'), dowStar: fields[4].startsWith('*') };
  parsed.set(expression, cron);
  return cron;
}

// ---- local dates and time-zone offsets ------------------------------------------------------

const DAY_MS = 86_400_000;

/** A local calendar date as a day number (days since 1970-01-01), and back. */
const dayNumber = (y: number, m: number, d: number) => Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
function civil(day: number): { y: number; m: number; d: number; weekday: number } {
  const date = new Date(day * DAY_MS);
  return { y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate(), weekday: date.getUTCDay() };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time of `instant` in `timeZone`, as milliseconds of a UTC clock. */
export function wallTime(instant: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour === 24 ? 0 : p.hour, p.minute, p.second);
}

/** The zone's offset from UTC at `instant`, in milliseconds (whole seconds). */
const offsetAt = (instant: number, timeZone: string) => wallTime(instant, timeZone) - Math.floor(instant / 1000) * 1000;

/**
 * The instants showing wall-clock time `wall` in `timeZone`: one, two (a repeated hour, earlier
 * first) or none (a gap; then `gapEnd` is the first instant after it).
 */
export function resolveWallTime(wall: number, timeZone: string): { instants: number[]; gapEnd?: number } {
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const instants = [...new Set([before, after])].map((o) => wall - o).filter((t) => offsetAt(t, timeZone) === wall - t);
  instants.sort((a, b) => a - b);
  if (instants.length) return { instants };
  // In a gap: the offset changes from `before` to `after` somewhere in (wall - after, wall - before].
  let lo = wall - after;
  let hi = wall - before;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === after) hi = mid;
    else lo = mid;
  }
  return { instants: [], gapEnd: hi };
}

/** The calendar date of `instant` in `timeZone`, YYYY-MM-DD. */
export function localDate(instant: number, timeZone: string): string {
  return new Date(wallTime(instant, timeZone)).toISOString().slice(0, 10);
}

/** The first instant of the calendar date `ds` (YYYY-MM-DD) in `timeZone`. */
export function startOfLocalDay(ds: string, timeZone: string): number {
  const { instants, gapEnd } = resolveWallTime(Date.parse(`${ds}T00:00:00Z`), timeZone);
  return instants.length ? instants[0] : gapEnd!;
}

// ---- fire times ----------------------------------------------------------------------------

/** Whether the cron runs on a local date. */
function matchesDay(cron: Cron, day: number): boolean {
  const { m, d, weekday } = civil(day);
  if (!cron.months.includes(m)) return false;
  const dom = cron.daysOfMonth.includes(d);
  const dow = cron.daysOfWeek.includes(weekday);
  if (cron.domStar || cron.dowStar) return dom && dow;
  return dom || dow;
}

/** Where a local time of the cron lands: its instant, the first of two, or the end of a gap. */
function fireInstant(wall: number, timeZone: string): number {
  const { instants, gapEnd } = resolveWallTime(wall, timeZone);
  return instants.length ? instants[0] : gapEnd!;
}

/**
 * The fire a Temporal fire time stands for: itself, or, for the second occurrence of a
 * repeated local time, its first occurrence.
 */
export function canonicalFire(instant: number, timeZone: string): number {
  return fireInstant(wallTime(instant, timeZone), timeZone);
}

/**
 * A time Temporal matched that the cron does not fire at, though it shows the cron's time of
 * day (Temporal's calendar misplacing a day next to a clock change). A schedule triggered by
 * hand fires at the moment it was asked, which is not such a time.
 */
export function isStrayMatch(expression: string, timeZone: string, instant: number): boolean {
  const cron = parseCron(expression);
  const wall = new Date(wallTime(instant, timeZone));
  const onTheMinute = instant % 60_000 === 0 && cron.minutes.includes(wall.getUTCMinutes()) && cron.hours.includes(wall.getUTCHours());
  return onTheMinute && !isFireTime(expression, timeZone, instant);
}

/** Whether a Temporal fire time is a fire of the cron (after `canonicalFire`), to the second. */
export function isFireTime(expression: string, timeZone: string, instant: number): boolean {
  const fire = canonicalFire(Math.floor(instant / 1000) * 1000, timeZone);
  return nextFire(expression, timeZone, fire - 1000) === fire;
}

/** The cron's fire instants on one local date, in order. */
function firesOn(cron: Cron, day: number, timeZone: string): number[] {
  if (!matchesDay(cron, day)) return [];
  const fires = new Set<number>();
  for (const h of cron.hours) for (const min of cron.minutes) fires.add(fireInstant(day * DAY_MS + (h * 60 + min) * 60_000, timeZone));
  return [...fires].sort((a, b) => a - b);
}

/** Enough days to find the next 29 February that a day-of-week does not rule out (2096 to 2104). */
const SEARCH_DAYS = 8 * 366 + 2;

const localDay = (instant: number, timeZone: string) => Math.floor(wallTime(instant, timeZone) / DAY_MS);

/** Fire instants after `after` (exclusive), oldest first, without end. */
export function* firesAfter(expression: string, timeZone: string, after: number): Generator<number> {
  const cron = parseCron(expression);
  let idle = 0;
  for (let day = localDay(after, timeZone) - 1; ; day++) {
    const fires = firesOn(cron, day, timeZone).filter((t) => t > after);
    if (fires.length) idle = 0;
    else if (++idle > SEARCH_DAYS) throw new CronError(`cron ${JSON.stringify(expression)} never fires`);
    yield* fires;
  }
}

/** The first fire strictly after `after`. */
export function nextFire(expression: string, timeZone: string, after: number): number {
  return firesAfter(expression, timeZone, after).next().value as number;
}

/** The last fire strictly before `before`. */
export function previousFire(expression: string, timeZone: string, before: number): number {
  const cron = parseCron(expression);
  for (let day = localDay(before, timeZone) + 1, idle = 0; idle <= SEARCH_DAYS; day--, idle++) {
    const fires = firesOn(cron, day, timeZone).filter((t) => t < before);
    if (fires.length) return fires[fires.length - 1];
  }
  throw new CronError(`cron ${JSON.stringify(expression)} never fires`);
}

// ---- Temporal calendar specs ------------------------------------------------------------------

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
  const month: TemporalCalendar['month'] = cron.months.length === 12 ? '*' : cron.months.map((m) => ({ start: TEMPORAL_MONTHS[m - 1], end: TEMPORAL_MONTHS[m - 1] }));
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
  for (const fire of gapFires(cron, timeZone, fromYear, toYear)) {
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
