/** The warehouse as tests read it: counts and a day's partition against what the generator made. */
import type { Pool } from 'pg';
import type { SeedSummary } from '../../scripts/sample-orders';

export async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

/**
 * A day's partition as it stands: rows loaded and rejected, distinct order_ids, the order_id
 * sum (of the number in each id, `ORD-17` counting 17) and amount sum (checksums), dbt's daily_revenue row, and the rejects by kind of bad row.
 */
export async function partition(pool: Pool, ds: string, { dbt = true }: { dbt?: boolean } = {}) {
  const {
    rows: [totals],
  } = await pool.query<{ loaded: string; distinct_ids: string; id_sum: string | null; amount_sum: string | null }>(
    `SELECT count(*) AS loaded, count(DISTINCT order_id) AS distinct_ids, sum(regexp_replace(order_id, '^[^0-9]*', '')::numeric)::text AS id_sum, sum(amount)::text AS amount_sum
     FROM warehouse.orders WHERE ds = $1`,
    [ds],
  );
  const rejected = await count(pool, 'SELECT count(*) AS n FROM warehouse.orders_rejected WHERE ds = $1', [ds]);
  // The test runs build dbt's dev target (analytics_dev).
  const dailyRevenue = dbt
    ? (await pool.query<{ orders: string; revenue: string }>('SELECT orders::text, revenue::text FROM analytics_dev.daily_revenue WHERE ds = $1', [ds])).rows
    : undefined;
  const reasons = await pool.query<{ kind: string; n: string }>(
    `SELECT CASE
       WHEN rule = 'order_id: required' THEN 'missing_order_id'
       WHEN rule = 'amount: decimal(12,2)' AND reason LIKE 'amount % is not a decimal(12,2)' THEN 'amount_not_a_number'
       WHEN rule = 'amount: >= 0' THEN 'negative_amount'
       WHEN rule = 'order_date: date' AND reason LIKE 'order_date ''%-02-30'' is not a date %' THEN 'impossible_date'
       WHEN rule = 'order_date: = ds' THEN 'wrong_order_date'
       WHEN rule = 'order_id: unique key' THEN 'duplicate_order_id'
       WHEN reason = 'expected 5 fields, found 4' THEN 'missing_column'
       ELSE reason END AS kind, count(*)::text AS n
     FROM warehouse.orders_rejected WHERE ds = $1 GROUP BY 1 ORDER BY 1`,
    [ds],
  );
  return {
    loaded: Number(totals.loaded),
    rejected,
    distinctIds: Number(totals.distinct_ids),
    orderIdSum: totals.id_sum ?? '0',
    amountSum: totals.amount_sum ?? '0',
    ...(dailyRevenue ? { dailyRevenue } : {}),
    byKind: Object.fromEntries(reasons.rows.map((r) => [r.kind, Number(r.n)])),
  };
}

/** What `partition` must find after a run of the generated file `seed` (with dbt unless `dbt: false`). */
export function expectedPartition(seed: SeedSummary, { dbt = true }: { dbt?: boolean } = {}) {
  return {
    loaded: seed.expectedLoaded,
    rejected: seed.expectedRejected,
    distinctIds: seed.expectedLoaded,
    orderIdSum: seed.expectedOrderIdSum,
    amountSum: seed.expectedRevenue,
    ...(dbt ? { dailyRevenue: [{ orders: String(seed.expectedLoaded), revenue: seed.expectedRevenue }] } : {}),
    byKind: Object.fromEntries(Object.entries(seed.byKind).filter(([, n]) => n > 0)),
  };
}
