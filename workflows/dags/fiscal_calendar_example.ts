/**
 * A DAG made of a task of your own: `fiscalDay` is a TypeScript function exported by
 * fiscal_calendar_example.activities.ts beside this file (Airflow's TaskFlow @task), registered as
 * the activity `fiscal_calendar_example.fiscalDay` with nothing else to edit. Its output feeds
 * the SQL that stores the day, once the warehouse can take it.
 *
 *   baton dags test fiscal_calendar_example --ds 2024-05-06 --conf '{"fiscal_year_start_month": 4}'
 */
import { dag, ownTasks, sql, sqlSensor, z } from 'baton/sdk';

const own = ownTasks<typeof import('./fiscal_calendar_example.activities')>();

export default dag(
  {
    dagId: 'fiscal_calendar_example',
    description: "The run's day in the fiscal calendar, worked out by a task of the DAG's own",
    schedule: '@daily',
    startDate: '2024-01-01',
    tags: ['example'],
    params: z.object({ fiscal_year_start_month: z.number().int().min(1).max(12).default(4) }),
  },
  ({ ds, params }) => {
    const warehouseReady = sqlSensor('warehouse_ready', {
      conn: 'warehouse',
      sql: "SELECT to_regnamespace('examples') IS NOT NULL",
      pokeInterval: '10s',
      timeout: '10m',
    });
    const createTable = sql('create_table', {
      upstream: [warehouseReady],
      conn: 'warehouse',
      sql: 'CREATE TABLE IF NOT EXISTS examples.fiscal_days (ds date PRIMARY KEY, fiscal_year int NOT NULL, fiscal_quarter int NOT NULL, fiscal_week int NOT NULL)',
      output: 'none',
    });
    const fiscal = own.fiscalDay('fiscal_day', { args: { ds, startMonth: params.fiscal_year_start_month } });
    sql('store', {
      upstream: [createTable],
      conn: 'warehouse',
      sql: `INSERT INTO examples.fiscal_days (ds, fiscal_year, fiscal_quarter, fiscal_week)
            VALUES (${ds}::date, ${fiscal.year}::int, ${fiscal.quarter}::int, ${fiscal.week}::int)
            ON CONFLICT (ds) DO UPDATE SET fiscal_year = excluded.fiscal_year, fiscal_quarter = excluded.fiscal_quarter, fiscal_week = excluded.fiscal_week`,
    });
    return { fiscal };
  },
);
