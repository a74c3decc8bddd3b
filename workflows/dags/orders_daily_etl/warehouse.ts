/**
 * The file and the tables of one day of orders: the day's CSV, staging's day table and rejects,
 * and the partition it becomes. Names come from a validated ds, never from input text.
 */
import type { PoolClient } from 'pg';
import { parseDs } from 'baton/task';

/** `raw/orders_<ds>.csv`, relative to the data directory, from a checked ds (never a path of its own). */
export const rawPath = (ds: string) => `raw/orders_${parseDs(ds)}.csv`;

/**
 * Tables of one logical date. Names come from a validated ds, never from input text. `clean`
 * becomes the published partition `partition`; `raw` is what an earlier Baton staged.
 */
export function stagingTables(ds: string) {
  const suffix = parseDs(ds).replace(/-/g, '');
  return {
    clean: `staging.orders_${suffix}`,
    rejected: `staging.orders_rejected_${suffix}`,
    /** The order_ids extract saw that may repeat an earlier one's (stageCsv's keyCandidates). */
    keys: `staging.orders_keys_${suffix}`,
    partition: `warehouse.orders_${suffix}`,
    raw: `staging.orders_raw_${suffix}`,
    legacyClean: `staging.orders_clean_${suffix}`,
  };
}

/** The day's table as a partition of warehouse.orders will be: its columns, defaults and checks, and ds fixed. */
export async function createDayTable(client: PoolClient, ds: string, table: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (LIKE warehouse.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  // A literal from a validated date: DDL takes no bind parameters. The CHECK lets the partition attach without a scan.
  await client.query(`ALTER TABLE ${table} ALTER COLUMN ds SET DEFAULT '${parseDs(ds)}'::date, ADD CHECK (ds = '${parseDs(ds)}'::date)`);
}
