/**
 * fiscal_calendar_example's own task: any exported function is an activity of the DAG. It runs on
 * the worker (it may read files, call APIs, use any npm package), gets the engine's input
 * (dagId, taskId, ds, attempt and its templated `args`) and returns its output: small JSON.
 */
import type { UserTaskInput } from '../../activities/operators/contracts';

/** The fiscal year (named for the calendar year it ends in), quarter and week of a day. */
export async function fiscalDay({ args }: UserTaskInput): Promise<{ year: number; quarter: number; week: number }> {
  const { ds, startMonth } = args as { ds: string; startMonth: string };
  const month = Number(startMonth);
  if (!Number.isInteger(month) || month < 1 || month > 12) throw new Error(`startMonth must be 1 to 12, got ${JSON.stringify(startMonth)}`);
  const day = new Date(`${ds}T00:00:00Z`);
  const startYear = day.getUTCMonth() + 1 >= month ? day.getUTCFullYear() : day.getUTCFullYear() - 1;
  const start = Date.UTC(startYear, month - 1, 1);
  const monthsIn = (day.getUTCFullYear() - startYear) * 12 + day.getUTCMonth() - (month - 1);
  return {
    year: month === 1 ? startYear : startYear + 1,
    quarter: Math.floor(monthsIn / 3) + 1,
    week: Math.floor((day.getTime() - start) / (7 * 86_400_000)) + 1,
  };
}
