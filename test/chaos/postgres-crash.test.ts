/**
 * Postgres crashes and restarts between transform and load: a backend is SIGKILLed, so the
 * postmaster ends every session and recovers from its WAL (a restart after a crash empties
 * UNLOGGED tables, which is why staging is logged). The day already published stays whole
 * throughout, the staged day survives, load retries and publishes it exactly.
 *
 * @exclusive the crash ends every lane's sessions: this file runs after the others, on its own
 */
import assert from '../support/assert';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { attemptsOf, count, expectedPartition, partition, testUnless } from '../support';
import { chaosPlatform, freshDs, FULL, report, resultThroughOutages, sleep, waitUntil } from './support';

const ROWS = FULL ? 1_000_000 : 100_000;
const chaos = chaosPlatform();
const { config, pool } = chaos;
// The crash ends the pool's idle connections too: an 'error' on an idle client is expected here.
pool.on('error', () => undefined);

// The test crashes the cluster: only Baton's own (BATON_TEST_POSTGRES=local, set by `npm test`), never yours.
const notLocal = process.env.BATON_TEST_POSTGRES === 'local' ? undefined : "Postgres is not Baton's local cluster: not this test's to crash";

testUnless(notLocal)(
  `Postgres crash-restart between transform and load: the previous day stays whole, the ${ROWS.toLocaleString('en')}-row day is published exactly`,
  async () => {
    const ds = freshDs(6);
    const file = path.join(config.dataDir, 'raw', `orders_${ds}.csv`);
    const previous = await generateOrders({ ds, rows: 20_000, badRate: 0.01, seed: 8107, file });
    await chaos.startWorker();
    const first = await resultThroughOutages<OrdersDailyEtlResult>(
      chaos.client.workflow.getHandle((await triggerRun(chaos.client, config, ordersDailyEtlDag, ds, { skip_dbt: true })).workflowId),
    );
    assert.equal(first.loadedRows, previous.expectedLoaded);

    const seed = await generateOrders({ ds, rows: ROWS, badRate: 0.01, seed: 8108, file });
    // Hold the publish function's lock: load waits inside its transaction, after transform committed the staged day.
    const lock = new PgClient({ connectionString: config.databaseUrl });
    lock.on('error', () => undefined); // the crash ends this session too
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`orders:${ds}`]);
    const run = await triggerRun(chaos.client, config, ordersDailyEtlDag, ds, { skip_dbt: true });
    const pid = await waitUntil('load waiting to publish', async () => {
      const { rows } = await pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'baton-worker' AND query LIKE 'SELECT * FROM baton.publish_orders_day%' AND wait_event_type = 'Lock'",
      );
      return rows[0]?.pid;
    });
    const crashed = await pool.query<{ crashed: boolean }>("SELECT current_setting('restart_after_crash')::boolean AS crashed");
    assert.equal(crashed.rows[0].crashed, true, "Baton's cluster restarts after a crash (restart_after_crash)");
    // A backend dying on SIGKILL makes the postmaster restart the whole cluster (crash recovery).
    process.kill(pid, 'SIGKILL');
    await lock.end().catch(() => undefined);
    const crashedAt = Date.now();

    // The partition as readers see it, from the moment Postgres is back: the old day whole, then the new one.
    const seen = new Set<number>();
    await waitUntil(
      'Postgres back after its crash',
      async () =>
        (await pool
          .query('SELECT 1')
          .then(() => true)
          .catch(() => false)) || undefined,
      120_000,
      200,
    );
    const back = Date.now();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const n = await count(pool, 'SELECT count(*) AS n FROM warehouse.orders WHERE ds = $1', [ds]).catch(() => -1);
        if (n >= 0) seen.add(n);
        await sleep(20);
      }
    })();
    const result = await resultThroughOutages<OrdersDailyEtlResult>(chaos.client.workflow.getHandle(run.workflowId, run.runId));
    watching = false;
    await watcher;
    report(
      `postgres-crash: cluster restarted during load (back after ${((back - crashedAt) / 1000).toFixed(1)} s); partition sizes seen after: ${[...seen].sort((a, b) => a - b).join(', ')}`,
    );

    assert.equal(result.state, 'success');
    assert.deepEqual(await partition(pool, ds, { dbt: false }), expectedPartition(seed, { dbt: false }));
    assert.deepEqual(
      [...seen].filter((n) => n !== previous.expectedLoaded && n !== seed.expectedLoaded),
      [],
      'the old day or the new one, never a part',
    );
    const attempts = await attemptsOf(chaos.client, run.workflowId, run.runId);
    const tries = (task: string) => attempts[`orders_daily_etl.${task}`];
    // The staged day survived the crash: extract and transform ran once; load again (as often as
    // Postgres refused connections while it recovered), each try a new activity of the engine's.
    assert.deepEqual([tries('extract'), tries('transform')], [[1], [1]], 'extract and transform were not run again');
    assert.ok(tries('load').length >= 2, `load ran again after the crash (${tries('load').length} tries)`);
  },
);
