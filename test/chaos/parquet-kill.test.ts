/**
 * orders-etl: the worker is SIGKILLed while the flow writes Parquet (transform_data's staged
 * file, then load_data's output), over a day whose output already exists from an earlier run.
 * Watched all along, `processed/orders_<date>.parquet` is always a whole file: the earlier
 * one until the new one replaces it, never a part of either.
 */
import assert from '../support/assert';
import { watch as fsWatch } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import type { DuckDBInstance as Instance } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import type { OrdersPipelineResult } from '../../workflows/dags/orders-etl/contract';
import { ordersEtlFlow } from '../support/reference-dags';
import { startRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { attemptsOf } from '../support';
import { freshDs, FULL, killWorker, pendingTasks, report, resultThroughOutages, sleep, chaosPlatform, waitUntil } from './support';

const ROWS = FULL ? 1_000_000 : 300_000;
const chaos = chaosPlatform();
const { config } = chaos;
let duck: Instance;

beforeAll(async () => {
  duck = await DuckDBInstance.create(':memory:');
});
afterAll(() => duck?.closeSync());

/** The rows of the Parquet file as a reader finds it now, or 'absent', or 'unreadable: <why>'. */
async function readOutput(file: string): Promise<number | 'absent' | string> {
  if (!(await stat(file).catch(() => undefined))) return 'absent';
  const connection = await duck.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet('${file.replace(/'/g, "''")}')`);
    return reader.getRows()[0][0] as number;
  } catch (err) {
    return `unreadable: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    connection.closeSync();
  }
}

test('the worker killed while Parquet is written: the output is the old whole file, then the new whole file, never a part', async () => {
  const startDate = freshDs(5);
  const input = path.join(config.dataDir, 'raw', `orders_${startDate}.csv`);
  const output = path.join(config.dataDir, 'processed', `orders_${startDate}.parquet`);
  let worker = await chaos.startWorker();

  // The earlier good state of the day.
  await generateOrders({ ds: startDate, rows: 20_000, badRate: 0.01, seed: 8106, file: input });
  const first = await resultThroughOutages<OrdersPipelineResult>(
    chaos.client.workflow.getHandle((await startRun(chaos.client, config, ordersEtlFlow, startDate, { refreshCache: true })).workflowId),
  );
  assert.equal(await readOutput(output), first.kept);

  await generateOrders({ ds: startDate, rows: ROWS, badRate: 0.01, seed: 8107, file: input });
  const seen = new Map<string, number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const state = String(await readOutput(output));
      seen.set(state, (seen.get(state) ?? 0) + 1);
      await sleep(5);
    }
  })();

  const run = await startRun(chaos.client, config, ordersEtlFlow, startDate, { refreshCache: true });
  const kills: string[] = [];
  // 1: while transform_data writes its Parquet.
  await waitUntil(
    'orders-etl.transformOrders running',
    async () => (await pendingTasks(chaos.client, run.workflowId)).find((t) => t.activityType === 'orders-etl.transformOrders' && t.state === 'started'),
    180_000,
    10,
  );
  await sleep(100); // transform_data takes about 0.6 s a million rows
  await killWorker(worker);
  kills.push('transformOrders');
  // 2: the moment load_data creates its hidden temp file beside the output (inotify), while it
  // copies the new file in: the worker dies with the copy half written.
  const processed = path.dirname(output);
  const tmpName = new RegExp(`^\\.orders_${startDate}\\.parquet\\..*\\.tmp$`);
  const killed = new Promise<string>((resolve) => {
    const watch = fsWatch(processed, (_event, name) => {
      if (!name || !tmpName.test(name)) return;
      watch.close();
      worker.child.kill('SIGKILL');
      resolve(`loadOrders, with ${name} being written`);
    });
    const ended = () => {
      watch.close();
      resolve('nothing: the run ended first');
    };
    chaos.client.workflow.getHandle(run.workflowId, run.runId).result().then(ended, ended);
  });
  worker = await chaos.startWorker();
  kills.push(await killed);
  assert.match(kills[1], /being written/, 'the second kill landed while load_data wrote its file');
  await new Promise((r) => (worker.child.exitCode !== null || worker.child.signalCode !== null ? r(undefined) : worker.child.once('exit', r)));
  worker = await chaos.startWorker();

  const result = await resultThroughOutages<OrdersPipelineResult>(chaos.client.workflow.getHandle(run.workflowId, run.runId));
  await sleep(50);
  watching = false;
  await watcher;
  report(`parquet-kill: killed during ${kills.join('; ')}; output states seen: ${[...seen].map(([s, n]) => `${s} x${n}`).join(', ')}`);

  assert.equal(result.rowsIn, ROWS);
  const attempts = await attemptsOf(chaos.client, run.workflowId, run.runId);
  assert.deepEqual(
    [attempts['orders-etl.transformOrders'], attempts['orders-etl.loadOrders']],
    [
      [1, 1],
      [1, 1],
    ],
    'both kills interrupted their task, retried once',
  );
  assert.equal(await readOutput(output), result.kept);
  assert.deepEqual(
    [...seen.keys()].filter((s) => s !== String(first.kept) && s !== String(result.kept)),
    [],
    'only the old or the new whole file was ever visible',
  );
  assert.ok(seen.has(String(first.kept)) && seen.has(String(result.kept)));
});
