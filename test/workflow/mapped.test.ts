/**
 * Dynamic task mapping on the engine (workflows/engine.ts, workflows/mapped.ts), on the
 * time-skipping server with the DAG's own tasks faked in-process: a task mapped over the list an
 * upstream task returned runs once per item in batch workflows, never more than maxActive at once
 * (read from the batches' histories), hands the instances' outputs on as a list in order, keeps
 * the run's own history small, retries an instance on its own, and a rerun of the run repeats
 * only the instances that failed.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { RunSettings, TaskRecord } from '../../src/contracts';
import { createTemporalActivities } from '../../activities/temporal';
import type { UserTaskInput } from '../../src/operators/task/activity';
import { MAP_BATCH_SIZE, mappedBatchWorkflowId } from '../../src/mapping';
import type { DagFileRunResult } from '../../workflows/engine';
import { mostAtOnceInHistories, timeSkippingWorker, workflowFailure } from '../support';
import { createLogger } from '../../src/logging';

const taskQueue = 'mapped-tests';
/** Items of the fan-out (5 batches); test/chaos/mapped-kill.test.ts runs 10,000 on the real server with `npm run test:chaos`. */
const ITEMS = 1_500;
/** Each instance's calls, by run date and item id; which items fail (and how often) by date. */
const calls = new Map<string, number[]>();
const failing = new Map<string, Map<number, number>>();
let running = 0;
let mostAtOnce = 0;

const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./mapped-probe'),
  activities: async () => ({
    runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
    // The real bookkeeping, reading the batches' runs from the server.
    ...(({ mappedBatchRuns, previousMappedBatch }) => ({ mappedBatchRuns, previousMappedBatch }))(
      createTemporalActivities({ client: server.client, logger: createLogger('silent') }),
    ),
    'engine_mapped.listItems': async (input: UserTaskInput) => {
      const { n } = input.args as { n: number };
      return Array.from({ length: n }, (_, id) => ({ id, name: `item-${id}` }));
    },
    'engine_mapped.touch': async (input: UserTaskInput & { mapIndex?: number; label?: string }) => {
      const { id, day } = input.args as { id: number; day: string };
      assert.equal(input.taskId, `touch[${id}]`);
      assert.equal(input.label, `item-${id}`);
      calls.set(day, [...(calls.get(day) ?? []), id]);
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        await new Promise((r) => setTimeout(r, 2));
        const left = failing.get(day)?.get(id) ?? 0;
        if (left > 0) {
          failing.get(day)!.set(id, left - 1);
          throw ApplicationFailure.nonRetryable(`item ${id} is broken`, 'Broken');
        }
        return { id, rows: id * 2 };
      } finally {
        running--;
      }
    },
    'engine_mapped.total': async (input: UserTaskInput) => {
      const { outputs } = input.args as { outputs: Array<{ id: number; rows: number }> };
      outputs.forEach((o, i) => assert.equal(o.id, i, 'outputs in index order'));
      return { instances: outputs.length, rows: outputs.reduce((sum, o) => sum + o.rows, 0) };
    },
  }),
});

const run = (ds: string, n: number) =>
  server.client.workflow.execute('engine_mapped', { taskQueue, workflowId: `engine_mapped-${ds}`, args: [{ ds, conf: { n } }] });
const table = (tasks: TaskRecord[]) => Object.fromEntries(tasks.map((t) => [t.taskId, t.state]));

test(`${ITEMS.toLocaleString('en')} items with maxActive 50: each runs once, in ${ITEMS / 500} batches, never more than 50 at once; the outputs go on as a list in order; the run history stays small`, async () => {
  mostAtOnce = 0;
  const result = (await run('2024-05-01', ITEMS)) as DagFileRunResult;
  assert.deepEqual(table(result.tasks), { list_items: 'success', touch: 'success', total: 'success' });
  const touch = result.tasks.find((t) => t.taskId === 'touch')!;
  const batches = Array.from({ length: ITEMS / 500 }, (_, k) => mappedBatchWorkflowId('engine_mapped-2024-05-01', 'touch', k));
  assert.deepEqual(touch.mapped, { total: ITEMS, success: ITEMS, failed: 0, reused: 0, batches });
  assert.deepEqual(touch.output, { items: ITEMS });
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'list_items')!.output, { items: ITEMS });
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'total')!.output, { instances: ITEMS, rows: ITEMS * (ITEMS - 1) });
  const ids = calls.get('2024-05-01')!;
  assert.equal(ids.length, ITEMS);
  assert.equal(new Set(ids).size, ITEMS, 'each item once');
  assert.ok(mostAtOnce <= 50 && mostAtOnce >= 25, `at most 50 at once in the activities, and the fan-out is wide (${mostAtOnce})`);
  const { most, events } = await mostAtOnceInHistories(server.client, batches);
  assert.ok(most <= 50, `at most 50 at once in the histories, saw ${most}`);
  assert.ok(Math.max(...events) < 4 * MAP_BATCH_SIZE + 50, `a batch's history stays under ${4 * MAP_BATCH_SIZE + 50} events: ${events.join(', ')}`);
  const parent = await server.client.workflow.getHandle('engine_mapped-2024-05-01').fetchHistory();
  // About ten events per batch and a few per task: 200 or so of Temporal's 51,200.
  assert.ok((parent.events?.length ?? 0) <= 12 * batches.length + 60, `the run's own history is small: ${parent.events?.length} events`);
});

test('a failed instance fails the mapped task, naming it with its label, and what reads it is upstream_failed; a rerun repeats only the failed instances', async () => {
  const ds = '2024-05-02';
  // Items 3 and 11 fail in the first run; 17 in the first two (each failure is for good: no retry within a run).
  failing.set(
    ds,
    new Map([
      [3, 1],
      [11, 1],
      [17, 2],
    ]),
  );
  const first = await workflowFailure(run(ds, 20));
  assert.equal(
    first.message,
    'task touch failed: 3 of 20 instances failed: touch[3] (item-3): item 3 is broken; touch[11] (item-11): item 11 is broken; touch[17] (item-17): item 17 is broken',
  );
  const tasks = await server.client.workflow.getHandle(`engine_mapped-${ds}`).query<TaskRecord[]>('tasks');
  assert.deepEqual(table(tasks), { list_items: 'success', touch: 'failed', total: 'upstream_failed' });
  assert.deepEqual(tasks.find((t) => t.taskId === 'touch')!.mapped, {
    total: 20,
    success: 17,
    failed: 3,
    reused: 0,
    batches: [mappedBatchWorkflowId(`engine_mapped-${ds}`, 'touch', 0)],
  });
  assert.equal(calls.get(ds)!.length, 20);

  // The run again: only the three failed instances run; 17 fails once more.
  const second = await workflowFailure(run(ds, 20));
  assert.match(second.message, /^task touch failed: 1 of 20 instances failed: touch\[17\] \(item-17\): item 17 is broken$/);
  assert.deepEqual(
    calls
      .get(ds)!
      .slice(20)
      .sort((a, b) => a - b),
    [3, 11, 17],
  );

  // And again: only 17, and the run succeeds with every output, 19 of them the earlier runs'.
  const third = (await run(ds, 20)) as DagFileRunResult;
  assert.deepEqual(calls.get(ds)!.slice(23), [17]);
  const touch = third.tasks.find((t) => t.taskId === 'touch')!;
  assert.equal(touch.state, 'success');
  assert.deepEqual([touch.mapped?.success, touch.mapped?.reused], [20, 19]);
  assert.deepEqual(third.tasks.find((t) => t.taskId === 'total')!.output, { instances: 20, rows: 20 * 19 });

  // The task succeeded: run again, every instance runs again (a rerun replaces what it made).
  const fourth = (await run(ds, 20)) as DagFileRunResult;
  assert.deepEqual([fourth.tasks.find((t) => t.taskId === 'touch')!.mapped?.reused, calls.get(ds)!.length], [0, 44]);
});

test('an empty list skips the mapped task, as in Airflow, and what reads it under all_success', async () => {
  const result = (await run('2024-05-03', 0)) as DagFileRunResult;
  assert.deepEqual(table(result.tasks), { list_items: 'success', touch: 'skipped', total: 'skipped' });
  assert.equal(result.state, 'success_with_skips');
});
