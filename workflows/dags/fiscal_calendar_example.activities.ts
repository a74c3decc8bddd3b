/**
 * fiscal_calendar_example's own task: any exported function is a task the DAG can run. It runs
 * on the worker (it may read files, call APIs, use any npm package), gets its args and a
 * context (its run, connections, a logger, the data directory) and returns its output: small JSON.
 */
import { failTask } from 'baton/task';

/** The fiscal year (named for the calendar year it ends in), quarter and week of a day. */
export async function fiscalDay({ ds, startMonth }: { ds: string; startMonth: number }): Promise<{ year: number; quarter: number; week: number }> {
  if (!Number.isInteger(startMonth) || startMonth < 1 || startMonth > 12)
    throw failTask(`startMonth must be 1 to 12, got ${JSON.stringify(startMonth)}`, 'InvalidInput');
  const day = new Date(`${ds}T00:00:00Z`);
  const startYear = day.getUTCMonth() + 1 >= startMonth ? day.getUTCFullYear() : day.getUTCFullYear() - 1;
  const start = Date.UTC(startYear, startMonth - 1, 1);
  const monthsIn = (day.getUTCFullYear() - startYear) * 12 + day.getUTCMonth() - (startMonth - 1);
  return {
    year: startMonth === 1 ? startYear : startYear + 1,
    quarter: Math.floor(monthsIn / 3) + 1,
    week: Math.floor((day.getTime() - start) / (7 * 86_400_000)) + 1,
  };
}
