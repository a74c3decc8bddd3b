/**
 * Airflow's logical date (`ds`), validated. Pure: used by workflows, activities and the CLI.
 */

const DS_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export class InvalidLogicalDate extends Error {
  override name = 'InvalidLogicalDate';
}

/**
 * Returns `value` when it is a real calendar date written YYYY-MM-DD, else throws an error
 * that names the value. Anything else (`2024-02-30`, `../x`, SQL) never reaches a path or a
 * statement.
 */
export function parseDs(value: unknown, field = 'ds'): string {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : String(value);
  if (typeof value !== 'string') {
    throw new InvalidLogicalDate(`${field} must be a date string YYYY-MM-DD, got ${shown}`);
  }
  const m = DS_PATTERN.exec(value);
  if (!m) {
    throw new InvalidLogicalDate(`${field} ${shown} is not a date in the form YYYY-MM-DD`);
  }
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new InvalidLogicalDate(`${field} ${shown} is not a real calendar date`);
  }
  return value;
}

/** `2024-01-15` -> `20240115` (Airflow's `ds_nodash`). */
export function dsNodash(ds: string): string {
  return parseDs(ds).replace(/-/g, '');
}

/** The UTC calendar date of an instant, YYYY-MM-DD. */
export function utcDate(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** `ds` shifted by whole days. */
export function addDays(ds: string, days: number): string {
  const d = new Date(`${parseDs(ds)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return utcDate(d);
}

// ---- Sub-daily runs: the logical timestamp (`ts`) ----------------------------------------------

const TS_PATTERN = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Returns the instant of a logical timestamp written as ISO 8601 with its offset
 * (`2024-01-15T13:00:00+00:00`, `2024-01-15T14:00+01:00`, `2024-01-15T13:00Z`), else throws
 * an error naming the value. A time without an offset is refused: near a clock change it would
 * stand for two instants.
 */
export function parseTs(value: unknown, field = 'ts'): number {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : String(value);
  if (typeof value !== 'string') throw new InvalidLogicalDate(`${field} must be a timestamp string such as 2024-01-15T13:00:00+00:00, got ${shown}`);
  const m = TS_PATTERN.exec(value);
  if (!m) throw new InvalidLogicalDate(`${field} ${shown} is not a timestamp in the form YYYY-MM-DDTHH:MM:SS+00:00`);
  parseDs(m[1], field);
  const [hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) throw new InvalidLogicalDate(`${field} ${shown} is not a real time of day`);
  if (!m[5]) throw new InvalidLogicalDate(`${field} ${shown} has no offset; write it with Z or +HH:MM (e.g. ${m[1]}T${m[2]}:${m[3]}:00+00:00)`);
  const offset = m[5] === 'Z' ? 0 : (m[5].startsWith('-') ? -1 : 1) * (Number(m[5].slice(1, 3)) * 60 + Number(m[5].slice(4, 6)));
  const instant = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${String(second).padStart(2, '0')}Z`) - offset * 60_000;
  if (Number.isNaN(instant)) throw new InvalidLogicalDate(`${field} ${shown} is not a real timestamp`);
  return instant;
}

/** An instant as Airflow writes `ts`: UTC, to the second, `2024-01-15T13:00:00+00:00`. */
export function formatTs(instant: number): string {
  return `${new Date(Math.floor(instant / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

/** `2024-01-15T13:00:00+00:00` -> `20240115T130000` (Airflow's `ts_nodash`). */
export function tsNodash(ts: string): string {
  return ts.slice(0, 19).replace(/[-:]/g, '');
}

/**
 * A run's key among its DAG's runs: its ds (YYYY-MM-DD) for a DAG that runs at most once a day,
 * its ts (`2024-01-15T13:00:00+00:00`) for a sub-daily one. A ts key has a `T`, a ds never.
 */
export const isTsKey = (key: string) => key.includes('T');
