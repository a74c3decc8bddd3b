/**
 * Wall-clock time in an IANA zone, by instant and back: the zone's offsets, the instants a
 * local time stands for (none in a spring gap, two in autumn's repeated hour), local dates.
 * Pure (Intl only): used inside workflows.
 */
export const DAY_MS = 86_400_000;

/** A local calendar date as a day number (days since 1970-01-01), and back. */
export const dayNumber = (y: number, m: number, d: number) => Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
export function civil(day: number): { y: number; m: number; d: number; weekday: number } {
  const date = new Date(day * DAY_MS);
  return { y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate(), weekday: date.getUTCDay() };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
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
export const offsetAt = (instant: number, timeZone: string) => wallTime(instant, timeZone) - Math.floor(instant / 1000) * 1000;

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
