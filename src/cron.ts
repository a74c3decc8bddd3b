/**
 * Cron schedules with one meaning everywhere: Baton's logical dates, the backfill's dates and
 * the Temporal Schedule's fire times are all computed from this module.
 *
 * - Classic (Vixie) cron fields: minute hour day-of-month month day-of-week, with numbers,
 *   names (jan-dec, sun-sat), `*`, ranges `a-b`, lists and steps `/n`; `@hourly`, `@daily`,
 *   `@weekly`, `@monthly` and `@yearly`. When day-of-month and day-of-week are both restricted, a day
 *   matches either (`0 6 1 * 1`: the 1st, and every Monday); a field starting with `*` leaves
 *   the other one alone, as in cron and Airflow.
 * - Local times in the DAG's zone. A time that does not exist (spring forward) fires at the
 *   first valid instant after the gap; a time that happens twice (autumn's repeated hour)
 *   fires once, at its first occurrence, as cron does. Temporal may match such a time at
 *   either occurrence or at both; `canonicalFire` maps each onto the one fire it stands for,
 *   so a logical date still runs once and never before its interval ends.
 * - A cron that fires every hour (its hour field covers all 24, as `0 * * * *` or
 *   `0,30 * * * *`) follows the clock in absolute time instead, as Airflow does for such crons:
 *   the repeated hour fires at both occurrences and a time in the gap is skipped, so an hourly
 *   DAG has 25 intervals on the autumn change day and 23 in spring, none overlapping.
 *
 * Pure and deterministic: used inside workflows.
 */

import { civil, DAY_MS, resolveWallTime, wallTime } from './zoned-time';

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
  '@hourly': '0 * * * *',
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

// ---- fire times ----------------------------------------------------------------------------

/** Whether the cron runs on a local date. */
export function matchesDay(cron: Cron, day: number): boolean {
  const { m, d, weekday } = civil(day);
  if (!cron.months.includes(m)) return false;
  const dom = cron.daysOfMonth.includes(d);
  const dow = cron.daysOfWeek.includes(weekday);
  if (cron.domStar || cron.dowStar) return dom && dow;
  return dom || dow;
}

/** Whether the cron fires in every hour of the day: then it follows the clock in absolute time (see above). */
export const coversEveryHour = (cron: Cron) => cron.hours.length === 24;

/** Whether the cron can fire more than once on a day: its runs are then keyed by ts, not ds. */
export function firesMoreThanDaily(expression: string): boolean {
  const cron = parseCron(expression);
  return cron.hours.length * cron.minutes.length > 1;
}

/**
 * Where a local time of the cron lands: its instant, the first of two, or the end of a gap; for
 * a cron covering every hour, each of its instants (none in a gap, two in a repeated hour).
 */
function fireInstants(wall: number, timeZone: string, everyHour: boolean): number[] {
  const { instants, gapEnd } = resolveWallTime(wall, timeZone);
  if (everyHour) return instants;
  return [instants.length ? instants[0] : gapEnd!];
}

/**
 * The fire a Temporal fire time stands for: itself, or, for the second occurrence of a
 * repeated local time, its first occurrence (unless the cron covers every hour, where each
 * occurrence is a fire of its own).
 */
export function canonicalFire(instant: number, timeZone: string, expression: string): number {
  if (coversEveryHour(parseCron(expression))) return Math.floor(instant / 1000) * 1000;
  return fireInstants(wallTime(instant, timeZone), timeZone, false)[0];
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
  const fire = canonicalFire(Math.floor(instant / 1000) * 1000, timeZone, expression);
  return nextFire(expression, timeZone, fire - 1000) === fire;
}

/** The cron's fire instants on one local date, in order. */
function firesOn(cron: Cron, day: number, timeZone: string): number[] {
  if (!matchesDay(cron, day)) return [];
  const fires = new Set<number>();
  const everyHour = coversEveryHour(cron);
  for (const h of cron.hours)
    for (const min of cron.minutes) for (const t of fireInstants(day * DAY_MS + (h * 60 + min) * 60_000, timeZone, everyHour)) fires.add(t);
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
