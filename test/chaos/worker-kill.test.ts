/**
 * The worker is SIGKILLed at random moments of an orders_daily_etl run and started again each
 * time; the run completes and the day's partition holds exactly the file's rows: counts,
 * order_id and amount checksums, rejects by kind, no duplicate order_id, dbt's revenue.
 * Bounded: 100,000 rows and 4 kills; full (`npm run test:chaos`): 1,000,000 rows and 20 kills.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { migrateWarehouse } from '../../activities/postgres';
import { connectClient } from '../../src/client';
import type { OrdersDailyEtlResult } from '../../src/contracts';
import { ordersDailyEtlDag } from '../../src/dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../src/seed';
import { expectedPartition, partition, testConfig, testPool, type RunningWorker } from '../support';
import { freshDs, FULL, killWorker, pendingTasks, prng, report, resultThroughOutages, sleep, startChaosWorker } from './support';

const ROWS = FULL ? 1_000_000 : 100_000;
const KILLS = FULL ? 20 : 4;
const config = testConfig();
const pool = testPool(config);
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

test(`orders_daily_etl on ${ROWS.toLocaleString('en')} rows survives ${KILLS} SIGKILLs of its worker at random moments`, async () => {
  const ds = freshDs(0);
  const seed = await generateOrders({ ds, rows: ROWS, badRate: 0.01, seed: 8101, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
  const killSeed = Date.now() % 100_000;
  const random = prng(killSeed);
  report(`worker-kill: ${ROWS} rows for ${ds}, kill times from seed ${killSeed}`);

  worker = await startChaosWorker();
  const run = await triggerRun(client, config, ordersDailyEtlDag, ds);
  const handle = client.workflow.getHandle(run.workflowId, run.runId);
  const killedDuring: string[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    // Anywhere from a fresh start to well into a task (a 1M-row stage takes seconds).
    await sleep(200 + random() * (FULL ? 6_000 : 2_500));
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') break;
    const running = (await pendingTasks(client, run.workflowId)).map((t) => `${t.activityType}${t.state === 'started' ? '' : ' (queued)'}`);
    await killWorker(worker);
    killedDuring.push(running.join('+') || 'between tasks');
    worker = await startChaosWorker();
  }
  const result = await resultThroughOutages<OrdersDailyEtlResult>(handle);
  report(`worker-kill: ${killedDuring.length} kills, during: ${killedDuring.join(', ')}`);

  assert.equal(killedDuring.length, KILLS, `the run ended after ${killedDuring.length} of ${KILLS} kills: make it longer`);
  assert.equal(result.state, 'success');
  assert.deepEqual([result.rowCount, result.loadedRows, result.rejectedRows], [ROWS, seed.expectedLoaded, seed.expectedRejected]);
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
  report(`worker-kill: ${seed.expectedLoaded} rows loaded and ${seed.expectedRejected} rejected, as the file holds; rows lost 0, doubled 0`);
});
