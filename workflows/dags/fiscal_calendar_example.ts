/**
 * A DAG made of a task of your own: `fiscal_day` is a TypeScript function exported by
 * fiscal_calendar_example.activities.ts beside this file (Airflow's TaskFlow @task), registered as
 * the activity `fiscal_calendar_example.fiscal_day` with nothing else to edit. Its output (XCom)
 * feeds the SQL that stores the day, once the warehouse can take it.
 *
 *   baton dags test fiscal_calendar_example --ds 2024-05-06 --conf '{"fiscal_year_start_month": 4}'
 */
import { dag, sql, sqlSensor, task, z } from '../../src/sdk';

export default dag({
  dagId: 'fiscal_calendar_example',
  description: "The run's day in the fiscal calendar, worked out by a task of the DAG's own",
  schedule: '@daily',
  startDate: '2024-01-01',
  tags: ['example'],
  params: z.object({ fiscal_year_start_month: z.number().int().min(1).max(12).default(4) }),
  tasks: {
    warehouse_ready: sqlSensor({ conn: 'warehouse', sql: "SELECT to_regnamespace('examples') IS NOT NULL", pokeInterval: '10s', timeout: '10m' }),
    create_table: sql({
      upstream: ['warehouse_ready'],
      conn: 'warehouse',
      sql: 'CREATE TABLE IF NOT EXISTS examples.fiscal_days (ds date PRIMARY KEY, fiscal_year int NOT NULL, fiscal_quarter int NOT NULL, fiscal_week int NOT NULL)',
      output: 'none',
    }),
    fiscal_day: task({ activity: 'fiscalDay', args: { ds: '{{ ds }}', startMonth: '{{ params.fiscal_year_start_month }}' } }),
    store: sql({
      upstream: ['create_table', 'fiscal_day'],
      conn: 'warehouse',
      sql: `INSERT INTO examples.fiscal_days (ds, fiscal_year, fiscal_quarter, fiscal_week)
            VALUES ({{ ds }}::date, {{ xcom.fiscal_day.year }}::int, {{ xcom.fiscal_day.quarter }}::int, {{ xcom.fiscal_day.week }}::int)
            ON CONFLICT (ds) DO UPDATE SET fiscal_year = excluded.fiscal_year, fiscal_quarter = excluded.fiscal_quarter, fiscal_week = excluded.fiscal_week`,
    }),
  },
  result: (run) => ({ fiscal: run.xcom.fiscal_day }),
});
