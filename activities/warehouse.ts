/** The warehouse's shape: its migration (activities/sql/warehouse.sql, run once, under a lock). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { projectRoot } from '../src/config';

/** Creates the warehouse schemas and tables if they are missing. */
export async function migrateWarehouse(pool: Pool): Promise<void> {
  // A worker on its least-privilege role (see worker-role.sql) may not run DDL, even
  // `IF NOT EXISTS`: when every object is in place (the set-up made them) there is nothing to do.
  const { rows } = await pool.query<{ ready: boolean }>(
    `SELECT to_regnamespace('staging') IS NOT NULL
        AND (SELECT relkind FROM pg_class WHERE oid = to_regclass('warehouse.orders')) = 'p'
        AND (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('warehouse.orders_rejected') AND attname IN ('lines', 'rule')) = 2
        AND to_regprocedure('baton.publish_orders_day(date, bigint, bigint)') IS NOT NULL
        AND to_regclass('baton.task_cache') IS NOT NULL
        AND to_regclass('baton.dag_servers') IS NOT NULL AS ready`,
  );
  if (rows[0].ready) return;
  const sql = await readFile(path.join(projectRoot, 'activities', 'sql', 'warehouse.sql'), 'utf8');
  const client = await pool.connect();
  try {
    // Two workers starting at once would race on CREATE ... IF NOT EXISTS.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['baton:migrate']);
    await client.query(sql);
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['baton:migrate']).catch(() => undefined);
    client.release();
  }
}
