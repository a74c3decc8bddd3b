/**
 * Two branches at once, joined: the day's weekday from a command and the day's exchange rate
 * from an HTTP API run side by side, then a SQL task reads both outputs (XCom), and a teardown
 * runs last whatever happened. Set BATON_CONN_EXAMPLE_API to the API's base URL.
 *
 *   baton dags show fan_in_example
 *   baton dags test fan_in_example --ds 2024-05-06
 */
import { command, dag, http, sql } from '../../src/sdk';

export default dag({
  dagId: 'fan_in_example',
  description: 'A command and an HTTP call at once, joined in SQL, then a teardown',
  schedule: '@daily',
  startDate: '2024-01-01',
  tags: ['example'],
  // It needs BATON_CONN_EXAMPLE_API: `baton unpause fan_in_example` once that is set.
  pausedOnCreation: true,
  defaultArgs: { owner: 'data-team', retries: 2, retryDelay: '30s' },
  tasks: {
    weekday: command({ argv: ['date', '-u', '-d', '{{ ds }}', '+%A'] }),
    fetch_rate: http({ conn: 'example_api', path: '/rates/{{ ds }}', expectStatus: 200 }),
    report: sql({
      upstream: ['weekday', 'fetch_rate'],
      conn: 'warehouse',
      sql: 'SELECT {{ ds }}::date AS ds, {{ xcom.weekday.tail }}::text AS weekday, {{ xcom.fetch_rate.json.eur }}::numeric AS eur',
      output: 'firstRow',
    }),
    cleanup: command({ upstream: ['report'], teardown: true, argv: ['echo', 'cleaned up after {{ ds }}'] }),
  },
});
