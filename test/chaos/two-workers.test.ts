/**
 * Two workers on the task queue; the one running the run's transform is SIGKILLed. The other
 * takes the task over once its heartbeat stops and finishes the run, exactly.
 */
import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { attemptsOf, expectedPartition, partition } from '../support';
import { freshDs, FULL, killWorker, pendingTasks, report, resultThroughOutages, chaosPlatform, waitUntil, whenRunning } from './support';

const ROWS = FULL ? 1_000_000 : 300_000;
const chaos = chaosPlatform();
const { config, pool } = chaos;

test('two workers: the one running transform is killed, the other finishes the run', async () => {
  const ds = freshDs(2);
  const seed = await generateOrders({ ds, rows: ROWS, badRate: 0.01, seed: 8103, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
  const workers = [await chaos.startWorker(), await chaos.startWorker()];
  const run = await triggerRun(chaos.client, config, ordersDailyEtlDag, ds);

  const task = await whenRunning(chaos.client, run.workflowId, 'orders_daily_etl.transform');
  const victim = workers.find((w) => task.worker?.startsWith(`${w.child.pid}@`)); // the SDK's identity: pid@host
  assert.ok(victim, `transform runs on ${task.worker}, not one of ${workers.map((w) => w.child.pid).join(', ')}`);
  const survivor = workers.find((w) => w !== victim)!;
  await killWorker(victim);
  const takenOver = await waitUntil('transform on the other worker', async () =>
    (await pendingTasks(chaos.client, run.workflowId)).find(
      (t) => t.activityType === 'orders_daily_etl.transform' && t.state === 'started' && t.worker?.startsWith(`${survivor.child.pid}@`),
    ),
  );
  report(`two-workers: transform killed with worker ${victim.child.pid}, taken over by ${takenOver.worker} as a new try`);

  const result = await resultThroughOutages<OrdersDailyEtlResult>(chaos.client.workflow.getHandle(run.workflowId, run.runId));
  assert.equal(result.state, 'success');
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
  assert.deepEqual(
    (await attemptsOf(chaos.client, run.workflowId, run.runId))['orders_daily_etl.transform'],
    [1, 1],
    'the engine retried transform once, on the other worker',
  );
});
