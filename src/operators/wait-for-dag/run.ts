/**
 * Which run a waitForDag waits for: its logical date (the rendered ds, shifted) and its workflow
 * id. Shared by the step and the activity, so the run is named in one place. Pure.
 */
import { dagRunWorkflowId } from '../../dags';
import { InvalidLogicalDate, parseDs } from '../../logical-date';
import type { RunShift } from './definition';

/** A sub-daily run's logical time, as Airflow's `ts` writes it (always UTC). */
const TS_PATTERN = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})\+00:00$/;

/**
 * The logical date of the run waited for: `ds` (a date, or a sub-daily run's time) moved by
 * `shift`, written as `ds` is. Throws an InvalidLogicalDate naming the value when `ds` is
 * neither, or when a shift of hours would move a date off its day.
 */
export function waitedLogicalDate(ds: string, shift: RunShift = {}): string {
  const hours = (shift.days ?? 0) * 24 + (shift.hours ?? 0);
  const ts = TS_PATTERN.exec(ds);
  if (ts) {
    const [hh, mm, ss] = [Number(ts[2]), Number(ts[3]), Number(ts[4])];
    if (hh > 23 || mm > 59 || ss > 59) throw new InvalidLogicalDate(`ds ${JSON.stringify(ds)} is not a real time of day`);
    const at = new Date(`${parseDs(ts[1])}T${ts[2]}:${ts[3]}:${ts[4]}Z`);
    at.setUTCHours(at.getUTCHours() + hours);
    return `${at.toISOString().slice(0, 19)}+00:00`;
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(ds))
    throw new InvalidLogicalDate(`ds ${JSON.stringify(ds.slice(0, 64))} is not a logical date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS+00:00)`);
  const day = new Date(`${parseDs(ds)}T00:00:00Z`);
  if (hours % 24 !== 0) throw new InvalidLogicalDate(`shift ${JSON.stringify(shift)} moves the date ${ds} off its day: a date moves by whole days (24 hours)`);
  day.setUTCDate(day.getUTCDate() + hours / 24);
  return day.toISOString().slice(0, 10);
}

/**
 * The workflow id of the run waited for (`<dag_id>-<ds>`): the one place that names it, so that
 * sub-daily runs' ids, keyed by their time, change it here alone.
 */
export const waitedRunId = (dagId: string, ds: string): string => dagRunWorkflowId(dagId, ds);
