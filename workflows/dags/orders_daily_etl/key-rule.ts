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
 * `keyCandidates` is extract's count of the order_ids it staged that may repeat an earlier one
 * (every repeated id is among them): when the table holds them all, only those ids are
 * searched; otherwise every id of the day is.
 */
export async function applyKeyRule(client: PoolClient, ds: string, keyCandidates?: number): Promise<number> {
  const t = stagingTables(ds);
  const digits = ds.replace(/-/g, '');
  const index = `orders_${digits}_key`;
  const hits = `orders_hits_${digits}`;
  if ((await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [`staging.${index}`])).rows[0].ok) return 0;
  await client.query("SET LOCAL work_mem = '256MB'");
  await client.query("SET LOCAL maintenance_work_mem = '256MB'");
  const candidates = keyCandidates !== undefined && (await stagedCandidates(client, t.keys, keyCandidates));
  // The ids to look at: extract's candidates, or else the day's repeated ids, found in
  // order_id's order: an index built for the search (a sort, as the primary key's own build is)
  // read by one index-only scan, faster than a hash aggregate over every id of the day.
  let ids = t.keys;
  const seek = `orders_${digits}_seek`;
  if (!candidates) {
    ids = `orders_repeated_${digits}`;
    await client.query(`CREATE INDEX ${seek} ON ${t.clean} (order_id)`);
    await client.query(`ANALYZE ${t.clean}`);
    await client.query('SET LOCAL enable_hashagg = off');
    await client.query(`CREATE TEMP TABLE ${ids} ON COMMIT DROP AS SELECT order_id FROM ${t.clean} GROUP BY order_id HAVING count(*) > 1`);
    await client.query('RESET enable_hashagg');
  }
  // Every record of those ids, with its tid: a small table, whatever the day's size. With the
  // ids counted, the planner takes one scan of the day against a hash of the candidates, or
  // reaches the few repeated ids' records through the search index. Candidates that do not
  // repeat come along, rank first, alone, and stay.
  await client.query(`ANALYZE ${ids}`);
  await client.query(
    `CREATE TEMP TABLE ${hits} ON COMMIT DROP AS
     SELECT c.ctid AS row_id, c.order_id, c.source_line, c.source_lines,
            concat_ws(',', c.order_id, c.customer_id, c.order_date, c.amount, c.status) AS raw
     FROM ${t.clean} c WHERE c.order_id IN (SELECT order_id FROM ${ids})`,
  );
  await client.query(`DROP TABLE ${ids}`);
  if (!candidates) await client.query(`DROP INDEX staging.${seek}`);
  await client.query(`ANALYZE ${hits}`);
  // The later records (by line) of each id go to the rejects and out of the day, by tid.
  const moved = await client.query(
    `WITH ranked AS (
       SELECT h.*, first_value(h.source_line) OVER (PARTITION BY h.order_id ORDER BY h.source_line ${KEEP.order}) AS kept_line FROM ${hits} h
     ), doomed AS (
       SELECT * FROM ranked WHERE source_line <> kept_line
     ), gone AS (
       DELETE FROM ${t.clean} c WHERE c.ctid = ANY (ARRAY(SELECT row_id FROM doomed)) RETURNING c.ctid
     )
     INSERT INTO ${t.rejected} (line, lines, rule, reason, raw)
     SELECT d.source_line, d.source_lines, 'order_id: unique key',
            format('duplicate order_id %s (${KEEP.word} at line %s)', quote_literal(d.order_id), d.kept_line), left(d.raw, 1000)
     FROM doomed d JOIN gone g ON g.ctid = d.row_id`,
  );
  await client.query(`DROP TABLE ${hits}`);
  // A primary key, not a bare unique index: ATTACH PARTITION takes a partition's index for the
  // parent's primary key only if a constraint owns it, and otherwise builds a second one.
  await client.query(`ALTER TABLE ${t.clean} ADD CONSTRAINT ${index} PRIMARY KEY (ds, order_id)`);
  return moved.rowCount ?? 0;
}

/** Whether extract's table of candidate ids is there and holds the `count` it staged. */
async function stagedCandidates(client: PoolClient, table: string, count: number): Promise<boolean> {
  if (!(await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0].ok) return false;
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0].n) === count;
}
