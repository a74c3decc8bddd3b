/**
 * The warehouse's shape: its migration (activities/sql/warehouse.sql, run once, under a lock) and
 * the tables of one logical date, named from a validated ds, never from input text.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { projectRoot } from '../src/config';
import { dsNodash, parseDs } from '../src/logical-date';

/**
 * Tables of one logical date. Names come from a validated ds, never from input text. `clean`
 * becomes the published partition `partition`; `raw` is what an earlier Baton staged.
 */
export function stagingTables(ds: string) {
  const suffix = dsNodash(ds);
  return {
    clean: `staging.orders_${suffix}`,
    rejected: `staging.orders_rejected_${suffix}`,
    partition: `warehouse.orders_${suffix}`,
    raw: `staging.orders_raw_${suffix}`,
    legacyClean: `staging.orders_clean_${suffix}`,
  };
}

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

/** The day's table as a partition of warehouse.orders will be: its columns, defaults and checks, and ds fixed. */
export async function createDayTable(client: PoolClient, ds: string, table: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (LIKE warehouse.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  // A literal from a validated date: DDL takes no bind parameters. The CHECK lets the partition attach without a scan.
  await client.query(`ALTER TABLE ${table} ALTER COLUMN ds SET DEFAULT '${parseDs(ds)}'::date, ADD CHECK (ds = '${parseDs(ds)}'::date)`);
}
