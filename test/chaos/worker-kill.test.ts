/**
 * The worker is SIGKILLed at random moments of an orders_daily_etl run and started again each
 * time; each run completes and its partition holds exactly the file's rows: counts,
 * order_id and amount checksums, rejects by kind, no duplicate order_id, dbt's revenue.
 * Bounded: 100,000 rows and 4 kills; full (`npm run test:chaos`): 1,000,000 rows and 20 kills.
 */
import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { expectedPartition, partition } from '../support';
import { freshDs, FULL, killWorker, pendingTasks, prng, report, resultThroughOutages, sleep, chaosPlatform } from './support';

const ROWS = FULL ? 1_000_000 : 100_000;
const KILLS = FULL ? 20 : 4;
const chaos = chaosPlatform();
const { config, pool } = chaos;

test(`orders_daily_etl on ${ROWS.toLocaleString('en')}-row days survives ${KILLS} SIGKILLs of its worker at random moments`, async () => {
  const killSeed = Date.now() % 100_000;
  const random = prng(killSeed);
  report(`worker-kill: ${ROWS} rows a day, kill times from seed ${killSeed}`);
  let worker = await chaos.startWorker();
  const killedDuring: string[] = [];
  const days: string[] = [];
  // Kill after a random 0.2 to 6 s of the worker's life, again and again; a day whose run
  // completes meanwhile is checked and the next day's run starts, until all the kills are done.
  while (killedDuring.length < KILLS) {
    const ds = freshDs(days.length * 10);
    days.push(ds);
    const seed = await generateOrders({ ds, rows: ROWS, badRate: 0.01, seed: 8101 + days.length, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
    const run = await triggerRun(chaos.client, config, ordersDailyEtlDag, ds);
    const handle = chaos.client.workflow.getHandle(run.workflowId, run.runId);
    while (killedDuring.length < KILLS) {
      await sleep(200 + random() * 5_800);
      if ((await handle.describe()).status.name !== 'RUNNING') break;
      const running = (await pendingTasks(chaos.client, run.workflowId)).map((t) => `${t.activityType}${t.state === 'started' ? '' : ' (queued)'}`);
      await killWorker(worker);
      killedDuring.push(running.join('+') || 'between tasks');
      worker = await chaos.startWorker();
    }
    const result = await resultThroughOutages<OrdersDailyEtlResult>(handle);
    assert.equal(result.state, 'success', ds);
    assert.deepEqual([result.rowCount, result.loadedRows, result.rejectedRows], [ROWS, seed.expectedLoaded, seed.expectedRejected], ds);
    assert.deepEqual(await partition(pool, ds), expectedPartition(seed), ds);
  }
  const tally = Object.entries(killedDuring.reduce<Record<string, number>>((n, k) => ({ ...n, [k]: (n[k] ?? 0) + 1 }), {})).map(([k, n]) => `${k} x${n}`);
  report(
    `worker-kill: ${killedDuring.length} kills over ${days.length} runs (${tally.join(', ')}); every run complete, ${days.length * ROWS} rows checked, rows lost 0, doubled 0`,
  );
});
