/**
 * Data-aware scheduling on the real dev server and worker, driven as a user would: `baton assets
 * emit` starts the consumer's run for a date once, when both its assets were updated for it; a
 * 10-date `baton backfill` of a producer whose tasks update both gives exactly 10 runs of the
 * consumer; `baton assets list` shows each asset's last update, producers and consumers; a DAG on
 * assets alone has no Temporal Schedule. The DAGs are test/fixtures/assets-project/dags/, served
 * by a worker of this file. The lane's namespace outlives the file, so the dates are this run's
 * own and runs are counted from the file's start.
 */
import assert from '../support/assert';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import type { AssetListing } from '../../src/assets';
import { assetWatcherWorkflowId, Queries, type AssetAnnouncement, type AssetUpdate, type AssetWatcherState } from '../../src/contracts';
import { dagRunWorkflowId, type DagDefinition } from '../../src/dags';
import { addDays } from '../../src/logical-date';
import { syncSchedule } from '../../src/schedules';
import { execFileAsync, integrationPlatform, noopDagDefinition, repoRoot } from '../support';

/**
 * The worker and the CLI work on the fixtures' DAGs; the worker bundles them itself (the prebuilt
 * bundle has the examples'), its entry written in their folder's .baton/, not the repository's
 * that other lanes' workers and tests write.
 */
const dagsDir = path.join(repoRoot, 'test', 'fixtures', 'assets-project', 'dags');
const env = () => {
  const { BATON_TEST_WORKFLOW_BUNDLE: _bundle, ...rest } = process.env;
  return { ...rest, BATON_DAGS_DIR: dagsDir };
};
const platform = integrationPlatform({ worker: false });
const startedAt = new Date();
/** Eleven days no earlier run of this namespace used (one for emit, ten for the backfill). */
const firstDay = addDays('2000-01-01', Math.floor(Date.now() / 1000) % 20_000);
const days = (from: number, n: number) => Array.from({ length: n }, (_, i) => addDays(firstDay, from + i));

beforeAll(async () => {
  await platform.startWorker(env());
  // A watcher left by an earlier run of this file keeps what it had: this run starts from nothing.
  await platform.client.workflow
    .getHandle(assetWatcherWorkflowId('assets_it_consumer'))
    .terminate('a new run of the assets integration tests')
    .catch((err) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    });
});

async function baton(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(repoRoot, 'scripts', 'baton.js'), ...args], { cwd: repoRoot, env: env() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The runs of a workflow id this file started (an earlier run of the file may have left some). */
async function runsSince(workflowId: string): Promise<number> {
  let n = 0;
  for await (const run of platform.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) if (run.startTime >= startedAt) n++;
  return n;
}

async function until(what: string, check: () => Promise<boolean>, withinMs = 60_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits for the run this file started with that id, and returns its result. */
async function resultOf(workflowId: string): Promise<{ state: string }> {
  await until(`${workflowId} started`, async () => (await runsSince(workflowId)) > 0);
  return (await platform.client.workflow.getHandle(workflowId).result()) as { state: string };
}

test('baton dags validate reads the producer and the consumer: no problem, no warning', async () => {
  const validated = await baton(['dags', 'validate']);
  assert.equal(validated.code, 0, validated.stderr);
  assert.equal(validated.stdout, 'ok assets_it_consumer: 1 tasks\nok assets_it_producer: 2 tasks\n');
});

test('baton assets emit starts the consumer once both assets were updated for the date, and once only', async () => {
  const [ds] = days(0, 1);
  const consumerRun = dagRunWorkflowId('assets_it_consumer', ds);
  const orders = await baton(['assets', 'emit', 'assets_it.orders', '--partition', ds]);
  assert.equal(orders.code, 0, orders.stderr);
  assert.equal(
    orders.stdout,
    `assets_it.orders updated for ${ds} (recorded in baton-asset-assets_it.orders)\n` +
      `  may start assets_it_consumer: its run ${consumerRun} starts when assets_it.orders & assets_it.customers is met for ${ds} (baton-assets-assets_it_consumer)\n`,
  );
  // The watcher has it (its query answers once the update is in), and waits for customers.
  await until('the watcher took the orders update', async () => {
    const state = await platform.client.workflow.getHandle(assetWatcherWorkflowId('assets_it_consumer')).query<AssetWatcherState>(Queries.assetWatcher);
    return state.pending.some((p) => p.key === ds);
  });
  assert.equal(await runsSince(consumerRun), 0);

  const customers = await baton(['assets', 'emit', 'assets_it.customers', '--partition', ds, '--json']);
  assert.equal(customers.code, 0, customers.stderr);
  const announced = JSON.parse(customers.stdout) as { update: AssetUpdate; consumers: AssetAnnouncement['consumers'] };
  assert.deepEqual(announced.consumers, [{ dagId: 'assets_it_consumer', key: ds }]);
  assert.deepEqual([announced.update.asset, announced.update.partition, announced.update.source.kind], ['assets_it.customers', ds, 'emit']);
  assert.equal((await resultOf(consumerRun)).state, 'success');

  // The same asset again: the run forgot the partition, which now waits for orders.
  const again = await baton(['assets', 'emit', 'assets_it.customers', '--partition', ds]);
  assert.equal(again.code, 0, again.stderr);
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(await runsSince(consumerRun), 1);

  // A bad asset name or partition is refused before anything is sent.
  const bad = await baton(['assets', 'emit', 'assets it', '--partition', ds]);
  assert.deepEqual(
    [bad.code, bad.stderr],
    [
      2,
      `error: command-argument value 'assets it' is invalid for argument 'asset'. asset name "assets it": a letter, then letters, digits, _ . : and -\n(add --help for usage)\n`,
    ],
  );
  const badDate = await baton(['assets', 'emit', 'assets_it.orders', '--partition', '2024-02-30']);
  assert.equal(badDate.code, 2);
  assert.match(badDate.stderr, /--partition "2024-02-30" is not a real calendar date/);

  const listed = await baton(['assets', 'list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const assets = (JSON.parse(listed.stdout) as AssetListing[]).filter((a) => a.asset.startsWith('assets_it.'));
  assert.deepEqual(
    assets.map((a) => [a.asset, a.producers, a.consumers, a.lastUpdate?.partition, a.lastUpdate?.source.kind]),
    [
      [
        'assets_it.customers',
        [{ dagId: 'assets_it_producer', taskId: 'load_customers' }],
        [{ dagId: 'assets_it_consumer', condition: 'assets_it.orders & assets_it.customers' }],
        ds,
        'emit',
      ],
      [
        'assets_it.orders',
        [{ dagId: 'assets_it_producer', taskId: 'load_orders' }],
        [{ dagId: 'assets_it_consumer', condition: 'assets_it.orders & assets_it.customers' }],
        ds,
        'emit',
      ],
    ],
  );
  const text = await baton(['assets', 'list']);
  assert.match(text.stdout, new RegExp(`^assets_it\\.orders {2}last updated for ${ds} at \\S+ by baton assets emit by \\S+ \\(\\d+ updates?\\)$`, 'm'));
});

test('a 10-date backfill of the producer gives exactly 10 runs of the consumer, one a date', async () => {
  const dates = days(1, 10);
  const backfill = await baton(['backfill', 'assets_it_producer', '--from', dates[0], '--to', dates[9], '--max-active', '10']);
  assert.equal(backfill.code, 0, `${backfill.stdout}\n${backfill.stderr}`);
  assert.match(backfill.stdout, new RegExp(`^backfill assets_it_producer ${dates[0]}\\.\\.${dates[9]}: 10 succeeded, 0 failed, 0 skipped`, 'm'));
  for (const ds of dates) assert.equal((await resultOf(dagRunWorkflowId('assets_it_consumer', ds))).state, 'success');
  // Late starts would show up here: the watcher has had every update for a while.
  await new Promise((r) => setTimeout(r, 3_000));
  assert.deepEqual(
    await Promise.all(dates.map((ds) => runsSince(dagRunWorkflowId('assets_it_consumer', ds)))),
    dates.map(() => 1),
  );
  const listed = JSON.parse((await baton(['assets', 'list', '--json'])).stdout) as AssetListing[];
  const customers = listed.find((a) => a.asset === 'assets_it.customers')!;
  assert.equal(customers.lastUpdate?.source.kind, 'task');
  assert.ok(dates.includes(customers.lastUpdate!.partition), customers.lastUpdate!.partition);
});

test('the schedule sync gives a DAG scheduled on assets alone no schedule, and deletes the one it had with a cron', async () => {
  const withCron = noopDagDefinition({ dagId: `assets_it_sync_${Date.now().toString(36)}`, schedule: '0 6 * * *' });
  const alone: DagDefinition = { ...withCron, schedule: null, assets: { asset: 'assets_it.orders' } };
  platform.atEnd(() =>
    platform.client.schedule
      .getHandle(withCron.dagId)
      .delete()
      .catch(() => undefined),
  );
  assert.equal(await syncSchedule(platform.client, alone), 'none');
  assert.equal(await syncSchedule(platform.client, withCron), 'created');
  assert.equal(await syncSchedule(platform.client, alone), 'deleted');
  await assert.rejects(platform.client.schedule.getHandle(withCron.dagId).describe(), ScheduleNotFoundError);
});
