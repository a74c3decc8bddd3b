/**
 * Data-aware scheduling on the time-skipping server (workflows/assets.ts): updates reach a DAG's
 * watcher by signal-with-start (the same call `baton assets emit` and a task's outlets make), and
 * its run for a partition starts once when its condition is met, however many updates race in;
 * partitions are independent; a 10-date backfill of the producer gives 10 runs; the watcher keeps
 * its state across continue-as-new; a task announces its outlets when it succeeds, never when it
 * fails. The operators are faked; the announcement is the real activity.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createAssetActivities } from '../../activities/assets';
import { createTemporalActivities } from '../../activities/temporal';
import { announceAssetUpdate, assetConsumer, consumersOf, listAssets, sourceText, type AssetListing } from '../../src/assets';
import {
  assetRecordWorkflowId,
  assetWatcherWorkflowId,
  Queries,
  Signals,
  WorkflowTypes,
  type AnnounceAssetsInput,
  type AssetRecordState,
  type AssetUpdate,
  type AssetUpdateForConsumer,
  type AssetWatcherInput,
  type AssetWatcherState,
  type BackfillInput,
  type BackfillProgress,
  type RunSettings,
} from '../../src/contracts';
import { dagRunWorkflowId, type DagDefinition } from '../../src/dags';
import type { CommandOperatorInput } from '../../src/operators/command/activity';
import { compileDag } from '../../src/sdk/compile';
import { workflowBundlerOptions } from '../../src/worker';
import { timeSkippingWorker, workflowFailure } from '../support';
import { ASSET_DAGS } from './assets-dags';

const taskQueue = 'assets-tests';
const commands: CommandOperatorInput[] = [];
const announced: AnnounceAssetsInput[] = [];
/** The DAGs as the worker's catalog has them, on this test's queue. */
const dags: DagDefinition[] = ASSET_DAGS.map((d) => ({ ...compileDag(d).definition, taskQueue }));

/**
 * A plain client, for the activities and for waiting on runs: waiting on the time-skipping one
 * lets time leap to the next deadline, and an idle watcher's is its (default) execution timeout.
 */
let plain: Client;
const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./assets-probe'),
  activities: async () => {
    const client = (plain = new Client({ connection: server.env.connection, namespace: server.env.namespace }));
    const { announceAssetUpdates } = createAssetActivities({ client, dags });
    return {
      runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
      runStatuses: createTemporalActivities({ client, logger: pino({ level: 'silent' }) }).runStatuses,
      operatorCommand: async (input: CommandOperatorInput) => {
        commands.push(input);
        if (input.argv.join(' ') === 'customers customers') throw new Error('customers exited with 1');
        return { exitCode: 0, tail: input.argv.join(' ') };
      },
      announceAssetUpdates: async (input: AnnounceAssetsInput) => {
        announced.push(input);
        return announceAssetUpdates(input);
      },
    };
  },
});

let emitted = 0;
/** What `baton assets emit <asset> --partition <partition>` does. */
const emit = (asset: string, partition: string, id = `emit/${++emitted}`) =>
  announceAssetUpdate(server.client, dags, { id, asset, partition, at: new Date().toISOString(), source: { kind: 'emit', by: 'tests' } }, taskQueue);

async function exists(workflowId: string): Promise<boolean> {
  try {
    await server.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Polls `check` until it holds; fails after `withinMs`, naming what it waited for. */
async function until(what: string, check: () => Promise<boolean> | boolean, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const watcher = (dagId: string) => server.client.workflow.getHandle(assetWatcherWorkflowId(dagId));
const watcherState = (dagId: string) => watcher(dagId).query<AssetWatcherState>(Queries.assetWatcher);
/** The assets a partition waits with, or undefined when it waits for nothing. */
const pendingOf = async (dagId: string, key: string) => {
  const partition = (await watcherState(dagId)).pending.find((p) => p.key === key);
  return partition && Object.keys(partition.updates).sort();
};
/**
 * What the watcher did for a partition, once it has noted `count` runs: it notes a run when the
 * child's start reaches it, which may come after the child ran a task.
 */
async function runsOf(dagId: string, key: string, count: number): Promise<string[]> {
  let outcomes: string[] = [];
  await until(`the watcher noted ${count} run(s) of ${dagId}-${key}`, async () => {
    outcomes = (await watcherState(dagId)).runs.filter((r) => r.key === key).map((r) => r.outcome);
    return outcomes.length >= count;
  });
  return outcomes;
}
/** How many runs of the DAG ran for `ds`: its report task's calls. */
const reports = (dagId: string, ds: string) => commands.filter((c) => c.dagId === dagId && c.ds === ds && c.argv[0] === 'report').length;
const resultOf = (workflowId: string) => plain.workflow.getHandle(workflowId).result() as Promise<{ state: string }>;

test('orders alone starts nothing; customers for that date then starts assets_consumer-<date> within 2 seconds, once', async () => {
  const ds = '2024-02-01';
  await emit('orders', ds);
  await until(
    'the watcher has the orders update',
    async () => (await exists(assetWatcherWorkflowId('assets_consumer'))) && !!(await pendingOf('assets_consumer', ds)),
  );
  assert.deepEqual(await pendingOf('assets_consumer', ds), ['orders']);
  assert.equal(await exists(dagRunWorkflowId('assets_consumer', ds)), false);

  const announced = await emit('customers', ds);
  const at = Date.now();
  assert.deepEqual(announced.consumers, [{ dagId: 'assets_consumer', key: ds }]);
  await until(`assets_consumer-${ds} exists`, () => exists(dagRunWorkflowId('assets_consumer', ds)), 2_000);
  assert.ok(Date.now() - at < 2_000);
  assert.equal((await resultOf(dagRunWorkflowId('assets_consumer', ds))).state, 'success');
  assert.equal(reports('assets_consumer', ds), 1);
  // The partition is forgotten once its run starts: the DAG waits for new updates.
  assert.equal(await pendingOf('assets_consumer', ds), undefined);
  assert.deepEqual(await runsOf('assets_consumer', ds, 1), ['started']);
  // The run knows what started it.
  const { memo } = await server.client.workflow.getHandle(dagRunWorkflowId('assets_consumer', ds)).describe();
  assert.deepEqual(memo?.assetTriggered, { watcher: assetWatcherWorkflowId('assets_consumer'), updates: ['emit/1', 'emit/2'] });
});

test('two updates of one asset at once start the run once; one update announced twice counts once', async () => {
  const ds = '2024-02-02';
  await emit('orders', ds);
  await Promise.all([emit('customers', ds), emit('customers', ds)]);
  await until(`assets_consumer-${ds} exists`, () => exists(dagRunWorkflowId('assets_consumer', ds)));
  await resultOf(dagRunWorkflowId('assets_consumer', ds));
  // Updates are taken in order: once a later one waits, both customers updates were taken.
  await emit('orders', '2024-02-03');
  await until('a later update waits', async () => !!(await pendingOf('assets_consumer', '2024-02-03')));
  assert.equal(reports('assets_consumer', ds), 1);
  assert.deepEqual(await runsOf('assets_consumer', ds, 1), ['started']);
  // The second update was taken with the first (one workflow task), or after the run started: then it waits for orders again.
  assert.ok([undefined, 'customers'].includes((await pendingOf('assets_consumer', ds))?.join()));

  // assets_either runs on refunds | returns: an announcement retried (the same update) is one update.
  const twice = `retried/${ds}`;
  await Promise.all([emit('refunds', ds, twice), emit('refunds', ds, twice)]);
  await until(`assets_either-${ds} exists`, () => exists(dagRunWorkflowId('assets_either', ds)));
  await resultOf(dagRunWorkflowId('assets_either', ds));
  assert.equal(reports('assets_either', ds), 1);
  // A new update after the run ended is new data: the partition runs again (a rerun replaces it).
  await emit('returns', ds);
  await until(`a second run of assets_either-${ds}`, () => reports('assets_either', ds) === 2);
  assert.deepEqual(await runsOf('assets_either', ds, 2), ['started', 'started']);
  // Updates are taken in order: the two announcements came before returns, and counted as one.
  assert.equal((await watcherState('assets_either')).received, 2);
});

test('partitions are independent: each date runs when its own condition is met', async () => {
  const [d4, d5] = ['2024-02-04', '2024-02-05'];
  await emit('orders', d4);
  await emit('customers', d5);
  await until('both partitions wait', async () => !!(await pendingOf('assets_consumer', d4)) && !!(await pendingOf('assets_consumer', d5)));
  assert.deepEqual([await pendingOf('assets_consumer', d4), await pendingOf('assets_consumer', d5)], [['orders'], ['customers']]);
  assert.deepEqual([await exists(dagRunWorkflowId('assets_consumer', d4)), await exists(dagRunWorkflowId('assets_consumer', d5))], [false, false]);
  await emit('customers', d4);
  await until(`assets_consumer-${d4} exists`, () => exists(dagRunWorkflowId('assets_consumer', d4)));
  assert.equal(await exists(dagRunWorkflowId('assets_consumer', d5)), false);
  assert.deepEqual(await pendingOf('assets_consumer', d5), ['customers']);
  await emit('orders', d5);
  await until(`assets_consumer-${d5} exists`, () => exists(dagRunWorkflowId('assets_consumer', d5)));
  for (const ds of [d4, d5]) assert.equal((await resultOf(dagRunWorkflowId('assets_consumer', ds))).state, 'success');
  assert.deepEqual([reports('assets_consumer', d4), reports('assets_consumer', d5)], [1, 1]);
});

test('a 10-date backfill of the producer gives exactly 10 runs of the consumer, one a date', async () => {
  const dates = Array.from({ length: 10 }, (_, i) => `2024-03-${String(i + 1).padStart(2, '0')}`);
  const input: BackfillInput = { dagId: 'assets_producer', workflowType: 'assets_producer', dates, maxActive: 10, rerun: 'none' };
  const progress = (await plain.workflow.execute(WorkflowTypes.dagBackfill, {
    taskQueue,
    workflowId: 'assets-backfill-march',
    args: [input],
  })) as BackfillProgress;
  assert.equal(progress.succeeded, 10);
  for (const ds of dates) {
    await until(`assets_consumer-${ds} exists`, () => exists(dagRunWorkflowId('assets_consumer', ds)));
    assert.equal((await resultOf(dagRunWorkflowId('assets_consumer', ds))).state, 'success');
  }
  // Each producer run announced orders then customers, once each.
  assert.deepEqual(
    dates.map((ds) => announced.filter((a) => a.partition === ds).map((a) => `${a.taskId}:${a.assets.join(',')}`)),
    dates.map(() => ['load_orders:orders', 'load_customers:customers']),
  );
  assert.deepEqual(
    dates.map((ds) => reports('assets_consumer', ds)),
    dates.map(() => 1),
  );
  for (const ds of dates) assert.deepEqual(await runsOf('assets_consumer', ds, 1), ['started']);
  const state = await watcherState('assets_consumer');
  assert.deepEqual(
    dates.map((ds) => state.runs.filter((r) => r.key === ds).length),
    dates.map(() => 1),
  );
  assert.deepEqual(
    state.pending.filter((p) => dates.includes(p.key)),
    [],
  );
  // The records keep each asset's last update, from the run that made it.
  const record = await server.client.workflow.getHandle(assetRecordWorkflowId('customers')).query<AssetRecordState>(Queries.assetUpdates);
  const march = record.updates.filter((u) => dates.includes(u.partition));
  assert.deepEqual(march.map((u) => u.partition).sort(), dates);
  assert.deepEqual(
    march.map((u) => (u.source.kind === 'task' ? `${u.source.workflowId} ${u.source.taskId}` : 'emit')).sort(),
    dates.map((ds) => `assets_producer-${ds} load_customers`),
  );
});

test('the watcher continues as new every so many updates, carrying the partitions that wait', async () => {
  const consumer = assetConsumer(consumersOf(dags, 'ledger')[0], taskQueue);
  const input: AssetWatcherInput = { dagId: 'assets_ledger', updatesPerRun: 2 };
  const send = (asset: string, ds: string) => {
    const update: AssetUpdate = { id: `can/${asset}/${ds}`, asset, partition: ds, at: new Date().toISOString(), source: { kind: 'emit', by: 'tests' } };
    const signal: AssetUpdateForConsumer = { update, consumer, key: ds, ds };
    return server.client.workflow.signalWithStart(WorkflowTypes.assetWatcher, {
      workflowId: assetWatcherWorkflowId('assets_ledger'),
      taskQueue,
      args: [input],
      signal: Signals.assetUpdated,
      signalArgs: [signal],
    });
  };
  const first = await send('ledger', '2024-04-01');
  await send('ledger', '2024-04-02');
  await until('the watcher continued as new', async () => (await watcher('assets_ledger').describe()).runId !== first.signaledRunId);
  const events = (await server.client.workflow.getHandle(first.workflowId, first.signaledRunId).fetchHistory()).events ?? [];
  assert.ok(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ended by continuing as new');
  const carried = await watcherState('assets_ledger');
  assert.deepEqual(
    carried.pending.map((p) => [p.key, Object.keys(p.updates)]),
    [
      ['2024-04-01', ['ledger']],
      ['2024-04-02', ['ledger']],
    ],
  );
  assert.equal(carried.received, 2);
  // The update it carried meets the condition with one that comes after.
  await send('fx', '2024-04-01');
  await until('assets_ledger-2024-04-01 exists', () => exists(dagRunWorkflowId('assets_ledger', '2024-04-01')));
  assert.equal((await resultOf(dagRunWorkflowId('assets_ledger', '2024-04-01'))).state, 'success');
  await runsOf('assets_ledger', '2024-04-01', 1);
  const after = await watcherState('assets_ledger');
  assert.deepEqual(
    after.pending.map((p) => p.key),
    ['2024-04-02'],
  );
  assert.deepEqual(
    after.runs.map((r) => [r.key, r.outcome, r.assets]),
    [['2024-04-01', 'started', ['ledger@2024-04-01', 'fx@2024-04-01']]],
  );
  assert.equal(after.received, 3);
  // An update announced again from before continuing as new is still recognised; it is this run's
  // second, so the watcher continues as new again. (The time-skipping server does not continue as
  // new atomically, sdk-java#1538: a signal-with-start meanwhile would start a new chain, so the
  // test waits; Temporal's server signals the new run.)
  const second = (await watcher('assets_ledger').describe()).runId;
  await send('ledger', '2024-04-02');
  await until('the watcher continued as new again', async () => (await watcher('assets_ledger').describe()).runId !== second);
  assert.equal((await watcherState('assets_ledger')).received, 3);
  await send('ledger', '2024-04-03');
  await until('the watcher took the next update', async () => !!(await pendingOf('assets_ledger', '2024-04-03')));
  const last = await watcherState('assets_ledger');
  assert.deepEqual([last.received, last.pending.map((p) => p.key)], [4, ['2024-04-02', '2024-04-03']]);
});

test('a task announces its outlets when it succeeds: a failed task announces nothing', async () => {
  const [failing, passing] = ['2024-05-01', '2024-05-02'];
  const failed = await plain.workflow.start('assets_producer', {
    taskQueue,
    workflowId: dagRunWorkflowId('assets_producer', failing),
    args: [{ ds: failing, conf: { fail: 'customers' } }],
  });
  assert.equal((await workflowFailure(failed.result())).message, 'task load_customers failed: customers exited with 1');
  assert.deepEqual(
    announced.filter((a) => a.partition === failing),
    [{ dagId: 'assets_producer', taskId: 'load_orders', partition: failing, assets: ['orders'] }],
  );
  await until('the watcher has the orders update', async () => !!(await pendingOf('assets_consumer', failing)));
  assert.deepEqual(await pendingOf('assets_consumer', failing), ['orders']);
  assert.equal(await exists(dagRunWorkflowId('assets_consumer', failing)), false);
  const customers = await server.client.workflow.getHandle(assetRecordWorkflowId('customers')).query<AssetRecordState>(Queries.assetUpdates);
  assert.deepEqual(
    customers.updates.filter((u) => u.partition === failing),
    [],
  );

  await plain.workflow.execute('assets_producer', { taskQueue, workflowId: dagRunWorkflowId('assets_producer', passing), args: [{ ds: passing }] });
  assert.deepEqual(
    announced.filter((a) => a.partition === passing).map((a) => a.taskId),
    ['load_orders', 'load_customers'],
  );
  await until(`assets_consumer-${passing} exists`, () => exists(dagRunWorkflowId('assets_consumer', passing)));
  assert.equal((await resultOf(dagRunWorkflowId('assets_consumer', passing))).state, 'success');
});

test("the producer's, the watcher's and the record's histories replay against the code", async () => {
  const histories = await Promise.all(
    [dagRunWorkflowId('assets_producer', '2024-05-02'), assetWatcherWorkflowId('assets_consumer'), assetRecordWorkflowId('orders')].map(async (workflowId) => ({
      workflowId,
      history: await server.client.workflow.getHandle(workflowId).fetchHistory(),
    })),
  );
  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('./assets-probe'), bundlerOptions: workflowBundlerOptions }, histories))
    results.push([result.workflowId, result.error?.message ?? 'ok']);
  assert.deepEqual(results, [
    [dagRunWorkflowId('assets_producer', '2024-05-02'), 'ok'],
    [assetWatcherWorkflowId('assets_consumer'), 'ok'],
    [assetRecordWorkflowId('orders'), 'ok'],
  ]);
});

test('baton assets list reads each asset of the DAG files and each one updated, with its last update, from the records', async () => {
  const files = ASSET_DAGS.map((d) => ({ dag: compileDag(d) }));
  await emit('external.feed', '2024-06-01');
  let listed: AssetListing[] = [];
  await until('the record of external.feed has its update', async () => {
    // The time-skipping server lists no workflows: the record's name is given, as the visibility query would find it.
    listed = await listAssets(server.client, files, ['external.feed']);
    return listed.some((a) => a.asset === 'external.feed' && a.lastUpdate);
  });
  const byName = new Map(listed.map((a) => [a.asset, a]));
  assert.deepEqual([...byName.keys()], ['customers', 'external.feed', 'fx', 'ledger', 'orders', 'refunds', 'returns']);
  const feed = byName.get('external.feed')!;
  assert.deepEqual(
    [feed.producers, feed.consumers, feed.updates, feed.lastUpdate?.partition, sourceText(feed.lastUpdate!)],
    [[], [], 1, '2024-06-01', 'baton assets emit by tests'],
  );
  const orders = byName.get('orders')!;
  assert.deepEqual(orders.producers, [{ dagId: 'assets_producer', taskId: 'load_orders' }]);
  assert.deepEqual(orders.consumers, [{ dagId: 'assets_consumer', condition: 'orders & customers' }]);
  assert.equal(sourceText(orders.lastUpdate!), 'assets_producer-2024-05-02 (task load_orders)');
  // fx was only ever sent to its watcher, never announced: it has no record.
  assert.deepEqual([byName.get('fx')!.lastUpdate, byName.get('fx')!.updates], [undefined, 0]);
});
