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
