/**
 * Which run a waitForDag waits for: its logical date (the rendered ds, shifted) and its workflow
 * id. Shared by the step and the activity, so the run is named in one place. Pure.
 */
import { dagRunWorkflowId } from '../../dags';
import { formatTs, InvalidLogicalDate, isTsKey, parseDs, parseTs } from '../../logical-date';
import type { RunShift } from './definition';

/**
 * The logical date of the run waited for: `ds` (a date, or a sub-daily run's ts with any offset)
 * moved by `shift`, a date written YYYY-MM-DD and a ts as Airflow writes it
 * (`2024-01-15T13:00:00+00:00`). Throws an InvalidLogicalDate naming the value when `ds` is
 * neither, or when a shift of hours would move a date off its day.
 */
export function waitedLogicalDate(ds: string, shift: RunShift = {}): string {
  const hours = (shift.days ?? 0) * 24 + (shift.hours ?? 0);
  if (isTsKey(ds)) return formatTs(parseTs(ds, 'ds') + hours * 3_600_000);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(ds))
    throw new InvalidLogicalDate(`ds ${JSON.stringify(ds.slice(0, 64))} is not a logical date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS+00:00)`);
  const day = new Date(`${parseDs(ds)}T00:00:00Z`);
  if (hours % 24 !== 0) throw new InvalidLogicalDate(`shift ${JSON.stringify(shift)} moves the date ${ds} off its day: a date moves by whole days (24 hours)`);
  day.setUTCDate(day.getUTCDate() + hours / 24);
  return day.toISOString().slice(0, 10);
}

/** The workflow id of the run waited for: `<dag_id>-<ds>`, or `<dag_id>-<ts>` for a sub-daily DAG's run. */
export const waitedRunId = (dagId: string, ds: string): string => dagRunWorkflowId(dagId, ds);
