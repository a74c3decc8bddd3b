/**
 * Postgres drops the worker's connection (pg_terminate_backend) in the middle of extract's COPY,
 * transform's SQL and load's transaction: each task fails, retries and the partition ends
 * exactly right. Meanwhile the partition is watched: it never holds a part of the day.
 */
import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { attemptsOf, count, expectedPartition, partition } from '../support';
import { freshDs, FULL, report, resultThroughOutages, sleep, chaosPlatform, waitUntil } from './support';

const ROWS = FULL ? 1_000_000 : 150_000;
const chaos = chaosPlatform();
const { config, pool } = chaos;

/**
 * The statement each stage runs, as pg_stat_activity shows it. transform and load are quick, so
 * the test holds the advisory lock each takes first (transform the day's staging lock, load the
 * publish function's) and terminates the task while it waits, then lets the retry through.
 */
const STAGES: Array<[stage: string, query: string, lock?: (ds: string) => string]> = [
  ['extract', 'COPY staging.orders_2%FROM STDIN%'],
  ['transform', 'SELECT pg_advisory_xact_lock(hashtext($1))', (ds) => `orders-staging:${ds}`],
  ['load', 'SELECT * FROM baton.publish_orders_day%', (ds) => `orders:${ds}`],
];

test(`pg_terminate_backend during extract, transform and load: each retries, the ${ROWS.toLocaleString('en')}-row partition ends exact and is never half written`, async () => {
  const ds = freshDs(1);
  const seed = await generateOrders({ ds, rows: ROWS, badRate: 0.01, seed: 8102, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
  await chaos.startWorker();
  const locks = await pool.connect();
  for (const [, , lock] of STAGES) if (lock) await locks.query('SELECT pg_advisory_lock(hashtext($1))', [lock(ds)]);
  const run = await triggerRun(chaos.client, config, ordersDailyEtlDag, ds, { skip_dbt: true });

  // The partition, as readers see it, every few milliseconds: empty or whole, nothing between.
  const seen = new Set<number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      seen.add(await count(pool, 'SELECT count(*) AS n FROM warehouse.orders WHERE ds = $1', [ds]));
      await sleep(20);
    }
  })();

  const terminated: string[] = [];
  for (const [stage, query, lock] of STAGES) {
    const pid = await waitUntil(
      `${stage}'s statement`,
      async () => {
        const { rows } = await pool.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'baton-worker' AND state = 'active' AND query LIKE $1",
          [query],
        );
        return rows[0]?.pid;
      },
      180_000,
      10,
    );
    const { rows } = await pool.query<{ done: boolean }>('SELECT pg_terminate_backend($1) AS done', [pid]);
    assert.equal(rows[0].done, true);
    if (lock) await locks.query('SELECT pg_advisory_unlock(hashtext($1))', [lock(ds)]);
    terminated.push(stage);
  }
  locks.release();
  const result = await resultThroughOutages<OrdersDailyEtlResult>(chaos.client.workflow.getHandle(run.workflowId, run.runId));
  watching = false;
  await watcher;
  report(`postgres-terminate: connections terminated during ${terminated.join(', ')}; partition sizes seen: ${[...seen].sort((a, b) => a - b).join(', ')}`);

  assert.equal(result.state, 'success');
  assert.deepEqual(await partition(pool, ds, { dbt: false }), expectedPartition(seed, { dbt: false }));
  assert.deepEqual(
    [...seen].filter((n) => n !== 0 && n !== seed.expectedLoaded),
    [],
    'never a part of the day',
  );
  const attempts = await attemptsOf(chaos.client, run.workflowId, run.runId);
  assert.deepEqual(
    STAGES.map(([stage]) => attempts[`orders_daily_etl.${stage}`]),
    [
      [1, 1],
      [1, 1],
      [1, 1],
    ],
    'each stage failed once and succeeded on its retry',
  );
});
