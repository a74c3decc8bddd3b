/**
 * Task groups on the engine (workflows/engine.ts), on the time-skipping server with a fake
 * command activity: a group's tasks run under their dotted ids after the group's upstream, a
 * task after the group waits for every one of its leaves, a failure inside the group makes it
 * upstream_failed, and a group's task reads and is read through `xcom['<group>.<task>']`.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { CommandOperatorInput } from '../../src/operators/command/activity';
import type { CacheLookupInput, CacheLookupResult, CacheStoreInput, FileRef, RunSettings } from '../../src/contracts';
import type { UserTaskInput } from '../../src/operators/task/activity';
import type { DagFileRunResult } from '../../workflows/engine';
import { timeSkippingWorker, workflowFailure } from '../support';

const taskQueue = 'groups-tests';
/** Each command's start and end, by run: `start region_us`, `end region_us`. */
const events: Array<{ ds: string; event: string; argv: string[] }> = [];
const cacheCalls: Array<[string, string]> = [];
const cacheEntries = new Map<string, FileRef>();

const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./groups-probe'),
  activities: {
    runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
    operatorCommand: async (input: CommandOperatorInput) => {
      const [program, arg] = input.argv;
      events.push({ ds: input.ds, event: `start ${input.taskId}`, argv: input.argv });
      if (arg === 'slow') await new Promise((r) => setTimeout(r, 1_500));
      events.push({ ds: input.ds, event: `end ${input.taskId}`, argv: input.argv });
      if (arg === 'fail') throw ApplicationFailure.nonRetryable(`${program} exited with 1`, 'CommandFailed');
      return { exitCode: 0, tail: input.argv.join(' ') };
    },
    // The task cache as baton.task_cache keeps it: an entry per key (the task id among what it is made of).
    cacheLookup: async (input: CacheLookupInput): Promise<CacheLookupResult> => {
      cacheCalls.push(['lookup', input.task]);
      const key = JSON.stringify([input.task, input.policy, input.inputs]);
      const entry = cacheEntries.get(key);
      return entry ? { key, status: 'hit', result: entry, storedAt: 'then', expiresAt: 'later' } : { key, status: 'miss' };
    },
    cacheStore: async (input: CacheStoreInput) => {
      cacheCalls.push(['store', input.task]);
      cacheEntries.set(input.key, input.result);
      return { expiresAt: 'later' };
    },
    'engine_groups_cached.produce': async (input: UserTaskInput) => {
      cacheCalls.push(['produce', input.taskId]);
      return { path: `staging/${(input.args as { day: string }).day}.parquet`, bytes: 10 };
    },
  },
});

let n = 0;
const start = (ds: string, conf: Record<string, unknown> = {}, workflowType = 'engine_groups') =>
  server.client.workflow.start(workflowType, { taskQueue, workflowId: `${workflowType}-${ds}-${++n}`, args: [{ ds, conf }] });
const eventsOf = (ds: string) => events.filter((e) => e.ds === ds).map((e) => e.event);
const statesOf = (tasks: Array<{ taskId: string; state: string }>) => Object.fromEntries(tasks.map((t) => [t.taskId, t.state]));

test("a group's roots run after its upstream, and a task after the group waits for every leaf of it, the slow one too", async () => {
  const ds = '2024-04-01';
  const handle = await start(ds);
  const result = (await handle.result()) as DagFileRunResult;
  assert.equal(result.state, 'success');
  assert.deepEqual(statesOf(result.tasks), {
    extract: 'success',
    'load.region_eu': 'success',
    'load.region_us': 'success',
    'load.checks.rows': 'success',
    report: 'success',
  });
  // region_eu and region_us are scheduled together after extract; report once region_us (slow) and checks.rows have ended.
  const order = eventsOf(ds);
  const at = (event: string) => order.indexOf(event);
  assert.deepEqual(order.slice(0, 2), ['start extract', 'end extract']);
  assert.ok(at('start load.checks.rows') > at('end load.region_eu'), order.join(', '));
  assert.ok(at('start report') > at('end load.region_us') && at('start report') > at('end load.checks.rows'), order.join(', '));
  // Outputs cross the group's edge both ways: rows reads region_eu, report reads rows, each through its dotted id.
  const argv = Object.fromEntries(events.filter((e) => e.ds === ds && e.event.startsWith('start ')).map((e) => [e.event.slice(6), e.argv.join(' ')]));
  assert.deepEqual(argv, {
    extract: 'extract ok',
    'load.region_eu': `region_eu ${ds}`,
    'load.region_us': 'region_us slow',
    'load.checks.rows': `rows region_eu ${ds}`,
    report: `report rows region_eu ${ds}`,
  });
  // The Web UI's line for each activity names the task by its dotted id; the workflow task that scheduled it shows what started together.
  const { events: history } = await handle.fetchHistory();
  const scheduled = (history ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'operatorCommand')
    .map((e) => ({
      summary: JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString('utf8')) as string,
      batch: String(e.activityTaskScheduledEventAttributes!.workflowTaskCompletedEventId),
    }));
  const batches = [...new Set(scheduled.map((s) => s.batch))].map((batch) =>
    scheduled
      .filter((s) => s.batch === batch)
      .map((s) => s.summary)
      .sort(),
  );
  assert.deepEqual(batches, [['extract: command'], ['load.region_eu: command', 'load.region_us: command'], ['load.checks.rows: command'], ['report: command']]);
});

test('a failed task of a group gives upstream_failed to the task after the group; the rest of the group runs', async () => {
  const ds = '2024-04-02';
  const handle = await start(ds, { us: 'fail' });
  assert.equal((await workflowFailure(handle.result())).message, 'task load.region_us failed: region_us exited with 1');
  assert.deepEqual(statesOf(await handle.query('tasks')), {
    extract: 'success',
    'load.region_eu': 'success',
    'load.region_us': 'failed',
    'load.checks.rows': 'success',
    report: 'upstream_failed',
  });
  assert.ok(!eventsOf(ds).includes('start report'));
});

test("a failed upstream of the group gives upstream_failed to each of the group's tasks and to what follows the group", async () => {
  const ds = '2024-04-03';
  const handle = await start(ds, { extract: 'fail' });
  assert.equal((await workflowFailure(handle.result())).message, 'task extract failed: extract exited with 1');
  assert.deepEqual(statesOf(await handle.query('tasks')), {
    extract: 'failed',
    'load.region_eu': 'upstream_failed',
    'load.region_us': 'upstream_failed',
    'load.checks.rows': 'upstream_failed',
    report: 'upstream_failed',
  });
  assert.deepEqual(eventsOf(ds), ['start extract', 'end extract']);
});

test('a cached task of a group is looked up and stored under its dotted id, and served from its entry on the same args', async () => {
  const first = (await (await start('2024-04-04', {}, 'engine_groups_cached')).result()) as DagFileRunResult;
  assert.deepEqual(
    first.tasks.map((t) => [t.taskId, t.state, t.output]),
    [['stage.produce', 'success', { path: 'staging/2024-04-04.parquet', bytes: 10, cache: 'miss' }]],
  );
  const again = (await (await start('2024-04-04', {}, 'engine_groups_cached')).result()) as DagFileRunResult;
  assert.deepEqual(
    again.tasks.map((t) => [t.taskId, t.state, t.output]),
    [['stage.produce', 'success', { path: 'staging/2024-04-04.parquet', bytes: 10, cache: 'hit' }]],
  );
  assert.deepEqual(cacheCalls, [
    ['lookup', 'stage.produce'],
    ['produce', 'stage.produce'],
    ['store', 'stage.produce'],
    ['lookup', 'stage.produce'],
  ]);
});
