/**
 * The orders contract's key rule on a day's staged rows: of each repeated order_id, one record
 * stays (the first, or the last if the contract says so) and the others move to the day's
 * rejects with the line of the one kept; then the day's table gets the primary key (ds, order_id)
 * its partition of warehouse.orders needs.
 */
import type { PoolClient } from 'pg';
import { ORDERS_CONTRACT } from './contract';
import { stagingTables } from './warehouse';

/** Which record of a repeated order_id stays. The key itself is warehouse.orders' primary key (ds, order_id). */
const KEEP = ORDERS_CONTRACT.key?.keep === 'last' ? { order: 'DESC', word: 'last' } : { order: 'ASC', word: 'first' };
if (ORDERS_CONTRACT.key?.columns.join(',') !== 'order_id') throw new Error('ORDERS_CONTRACT.key must be order_id: warehouse.orders is keyed by (ds, order_id)');

/**
 * Applies the key rule to the staged day `ds` (a validated date), in the caller's transaction,
 * unless its primary key is there already (the rule was applied): how many records it moved.
 */
export async function applyKeyRule(client: PoolClient, ds: string): Promise<number> {
  const t = stagingTables(ds);
  const digits = ds.replace(/-/g, '');
  const index = `orders_${digits}_key`;
  const seek = `orders_${digits}_seek`;
  const repeated = `staging.orders_repeated_${digits}`;
  if ((await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [`staging.${index}`])).rows[0].ok) return 0;
  // Repeated ids, found in order_id's order: an index built for the search (a sort, as the
  // primary key's own build is) read by one index-only scan, faster than a hash aggregate
  // over every id of the day. The day's statistics then let the planner reach the few
  // repeated records through that index and delete by tid, where without them it hashed
  // the whole day twice. The search index goes before the primary key is built.
  await client.query("SET LOCAL work_mem = '256MB'");
  await client.query("SET LOCAL maintenance_work_mem = '256MB'");
  await client.query(`CREATE INDEX ${seek} ON ${t.clean} (order_id)`);
  await client.query(`ANALYZE ${t.clean}`);
  await client.query('SET LOCAL enable_hashagg = off');
  await client.query(`DROP TABLE IF EXISTS ${repeated}`);
  await client.query(`CREATE UNLOGGED TABLE ${repeated} AS SELECT order_id FROM ${t.clean} GROUP BY order_id HAVING count(*) > 1`);
  await client.query('RESET enable_hashagg');
  await client.query(`ANALYZE ${repeated}`);
  const moved = await client.query(
    `WITH ranked AS (
       SELECT c.ctid AS row_id, c.order_id, c.source_line, c.source_lines,
              concat_ws(',', c.order_id, c.customer_id, c.order_date, c.amount, c.status) AS raw,
              first_value(c.source_line) OVER (PARTITION BY c.order_id ORDER BY c.source_line ${KEEP.order}) AS kept_line
       FROM ${t.clean} c JOIN ${repeated} USING (order_id)
     ), gone AS (
       DELETE FROM ${t.clean} c USING ranked r WHERE c.ctid = r.row_id AND r.source_line <> r.kept_line
       RETURNING r.order_id, r.source_line, r.source_lines, r.raw, r.kept_line
     )
     INSERT INTO ${t.rejected} (line, lines, rule, reason, raw)
     SELECT source_line, source_lines, 'order_id: unique key',
            format('duplicate order_id %s (${KEEP.word} at line %s)', quote_literal(order_id), kept_line), left(raw, 1000)
     FROM gone`,
  );
  await client.query(`DROP TABLE ${repeated}`);
  await client.query(`DROP INDEX staging.${seek}`);
  // A primary key, not a bare unique index: ATTACH PARTITION takes a partition's index for the
  // parent's primary key only if a constraint owns it, and otherwise builds a second one.
  await client.query(`ALTER TABLE ${t.clean} ADD CONSTRAINT ${index} PRIMARY KEY (ds, order_id)`);
  return moved.rowCount ?? 0;
}
