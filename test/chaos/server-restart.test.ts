/**
 * The Temporal dev server is stopped in the middle of a run and started again on the same
 * SQLite file: the worker reconnects, the run completes, and the partition is exact.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { migrateWarehouse } from '../../activities/postgres';
import { connectClient } from '../../src/client';
import { loadServiceSettings } from '../../src/config';
import type { OrdersDailyEtlResult } from '../../src/contracts';
import { ordersDailyEtlDag } from '../../src/dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../src/seed';
import { LocalTemporal } from '../../src/services';
import { TEST_NAMESPACE } from '../../src/test-runner';
import { attemptsOf, expectedPartition, partition, testConfig, testPool, type RunningWorker } from '../support';
import { freshDs, FULL, report, resultThroughOutages, sleep, startChaosWorker, whenRunning } from './support';

const ROWS = FULL ? 1_000_000 : 300_000;
const config = testConfig();
const pool = testPool(config);
const temporal = new LocalTemporal(loadServiceSettings());
let client: Client;
let worker: RunningWorker | undefined;

before(async () => {
  await migrateWarehouse(pool);
  client = await connectClient(config);
});
after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await pool.end();
});

test('the Temporal dev server stopped mid-run and started again on its database file: the run completes, exactly', async (t) => {
  if (!existsSync(temporal.pidFile)) {
    t.skip('the Temporal server was not started by Baton here: it is not this test\'s to stop');
    return;
  }
  const ds = freshDs(4);
  const seed = await generateOrders({ ds, rows: ROWS, badRate: 0.01, seed: 8105, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
  worker = await startChaosWorker();
  const run = await triggerRun(client, config, ordersDailyEtlDag, ds);

  await whenRunning(client, run.workflowId, 'transform');
  const stoppedAt = Date.now();
  await temporal.stop(() => undefined);
  await sleep(2_000); // the worker's polls and heartbeats fail meanwhile
  await temporal.ensure(() => undefined, [TEST_NAMESPACE]);
  report(`server-restart: the dev server was down for ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s during transform`);

  const result = await resultThroughOutages<OrdersDailyEtlResult>(client.workflow.getHandle(run.workflowId, run.runId));
  assert.equal(result.state, 'success');
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
  assert.ok(worker.child.exitCode === null, 'the worker rode out the outage');
  const attempts = await attemptsOf(client, run.workflowId, run.runId);
  assert.deepEqual([attempts.extract, attempts.load, attempts.validate], [[1], [1], [1]]);
});
