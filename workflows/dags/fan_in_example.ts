/**
 * Two branches at once, joined: the day's weekday from a command and the day's exchange rate
 * from an HTTP API run side by side, then a SQL task reads both outputs, and a teardown runs
 * last whatever happened. Set BATON_CONN_EXAMPLE_API to the API's base URL.
 *
 *   baton dags show fan_in_example
 *   baton dags test fan_in_example --ds 2024-05-06
 */
import { command, dag, http, sql } from 'baton/sdk';

export default dag(
  {
    dagId: 'fan_in_example',
    description: 'A command and an HTTP call at once, joined in SQL, then a teardown',
    schedule: '@daily',
    startDate: '2024-01-01',
    tags: ['example'],
    // It needs BATON_CONN_EXAMPLE_API: `baton unpause fan_in_example` once that is set.
    pausedOnCreation: true,
    defaultArgs: { owner: 'data-team', retries: 2, retryDelay: '30s' },
  },
  ({ ds }) => {
    const weekday = command('weekday', { argv: ['date', '-u', '-d', `${ds}`, '+%A'] });
    const rate = http<{ eur: number }>('fetch_rate', { conn: 'example_api', path: `/rates/${ds}`, expectStatus: 200 });
    // Reading both outputs makes report wait for both: no upstream to keep in step.
    const report = sql<{ ds: string; weekday: string; eur: string }>('report', {
      conn: 'warehouse',
      sql: `SELECT ${ds}::date AS ds, ${weekday.tail}::text AS weekday, ${rate.json.eur}::numeric AS eur`,
      output: 'firstRow',
    });
    command('cleanup', { upstream: [report], teardown: true, argv: ['echo', `cleaned up after ${ds}`] });
  },
);
