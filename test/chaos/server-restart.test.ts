/**
 * The Temporal dev server (the test's own) is stopped in the middle of a run and started again on
 * the same SQLite file: the worker reconnects, the run completes, and the partition is exact.
 */
import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { attemptsOf, expectedPartition, partition } from '../support';
import { freshDs, FULL, report, resultThroughOutages, sleep, chaosPlatform, whenRunning } from './support';

const ROWS = FULL ? 1_000_000 : 150_000;
const chaos = chaosPlatform({ privateTemporal: true });
const { config, pool } = chaos;

test('the Temporal dev server stopped mid-run and started again on its database file: the run completes, exactly', async () => {
  const ds = freshDs(4);
  const seed = await generateOrders({ ds, rows: ROWS, badRate: 0.01, seed: 8105, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
  const worker = await chaos.startWorker();
  const run = await triggerRun(chaos.client, config, ordersDailyEtlDag, ds);

  await whenRunning(chaos.client, run.workflowId, 'orders_daily_etl.transform');
  const stoppedAt = Date.now();
  await chaos.temporal.stop(() => undefined);
  await sleep(2_000); // the worker's polls and heartbeats fail meanwhile
  await chaos.restartTemporal();
  report(`server-restart: the dev server was down for ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s during transform`);

  const result = await resultThroughOutages<OrdersDailyEtlResult>(chaos.client.workflow.getHandle(run.workflowId, run.runId));
  assert.equal(result.state, 'success');
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
  assert.ok(worker.child.exitCode === null, 'the worker rode out the outage');
  const attempts = await attemptsOf(chaos.client, run.workflowId, run.runId);
  assert.deepEqual(
    ['extract', 'load', 'validate'].map((t) => attempts[`orders_daily_etl.${t}`]),
    [[1], [1], [1]],
  );
});
