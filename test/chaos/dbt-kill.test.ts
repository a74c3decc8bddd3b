/**
 * The dbt process is SIGKILLed in the middle of `dbt run`: the dbt_run task fails as
 * retryable, runs again, and the models end built for the day.
 */
import assert from '../support/assert';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { attemptsOf, expectedPartition, partition } from '../support';
import { freshDs, report, resultThroughOutages, sleep, chaosPlatform, waitUntil } from './support';

const chaos = chaosPlatform();
const { config, pool } = chaos;

/** The pid of the `dbt run` whose --vars name this ds. */
async function dbtProcess(ds: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args.some((a) => a.endsWith('/dbt')) && args.includes('run') && args.includes(JSON.stringify({ ds }))) return Number(entry);
  }
  return undefined;
}

test('dbt killed mid-run: dbt_run retries and the models end built', async () => {
  const ds = freshDs(3);
  const seed = await generateOrders({ ds, rows: 20_000, badRate: 0.01, seed: 8104, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
  await chaos.startWorker();
  const run = await triggerRun(chaos.client, config, ordersDailyEtlDag, ds);

  const pid = await waitUntil('dbt run for the day', () => dbtProcess(ds), 180_000, 20);
  await sleep(700); // dbt is loading its project and connecting: mid-run
  process.kill(pid, 'SIGKILL');
  report(`dbt-kill: dbt run (pid ${pid}) killed`);

  const result = await resultThroughOutages<OrdersDailyEtlResult>(chaos.client.workflow.getHandle(run.workflowId, run.runId));
  assert.equal(result.state, 'success');
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
  assert.deepEqual((await attemptsOf(chaos.client, run.workflowId, run.runId))['orders_daily_etl.dbtRun'], [1, 1], 'the killed dbt run was retried once');
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'dbt_run')?.state, 'success');
});
