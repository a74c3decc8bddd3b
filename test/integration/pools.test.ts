/**
 * Run slots and pools against the real dev server and worker: a terminated holder rerun, a
 * reset past its grant, a terminated keeper, and one pool shared by three DAGs. Limits are read
 * from the runs' own histories (when each pooled task's activity started and ended).
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { poolWorkflowId, runsPool, type TaskRecord } from '../../src/contracts';
import { dagRunWorkflowId } from '../../src/dags';
import { findPool } from '../../src/pools';
import { noopDagDefinition, resultOf, temporalCli, integrationPlatform } from '../support';
import type { NoopDagResult } from '../../workflows/noop-dag';

const suffix = Date.now().toString(36);
const id = (name: string) => `${name}_${suffix}`;
const platform = integrationPlatform({ migrate: false });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

type Dag = ReturnType<typeof noopDagDefinition>;
const start = (dag: Dag, ds: string, extra: Record<string, unknown> = {}) =>
  platform.client.workflow.start('noopDag', { taskQueue: 'etl', workflowId: dagRunWorkflowId(dag.dagId, ds), args: [{ ...dag.runArgs, ds, ...extra }] });
const states = async (dag: Dag, ds: string) =>
  (await platform.client.workflow.getHandle(dagRunWorkflowId(dag.dagId, ds)).query<TaskRecord[]>('tasks')).map((t) => t.state);
const running = (dag: Dag, ds: string) => until(`${ds} running`, async () => (await states(dag, ds))[0] === 'running');

test('max_active_runs=1: a run terminated while it holds the slot, then rerun, does not stall the DAG', async () => {
  const dag = noopDagDefinition({ dagId: id('rerun'), maxActiveRuns: 1 }, { tasks: 1, taskSleepMs: 600_000 });
  const holder = await start(dag, '2024-01-01');
  await running(dag, '2024-01-01');
  await temporalCli(['workflow', 'terminate', '--workflow-id', holder.workflowId, '--reason', 'terminated by the test']);
  const t0 = Date.now();
  const rerun = await start(dag, '2024-01-01', { taskSleepMs: 0 });
  const other = await start(dag, '2024-01-02', { taskSleepMs: 0 });
  const [a, b] = (await Promise.all([rerun.result(), other.result()])) as NoopDagResult[];
  assert.deepEqual([a.tasks[0].state, b.tasks[0].state], ['success', 'success']);
  // The keeper checks its holder by run id as soon as a request finds the pool full: seconds, not a leak check's minute.
  assert.ok(Date.now() - t0 < 30_000, `both ran in ${Date.now() - t0} ms`);
});

test('max_active_runs=1: a run reset past its grant keeps its slot, and no other run gets one meanwhile', async () => {
  const dag = noopDagDefinition({ dagId: id('reset'), maxActiveRuns: 1 }, { tasks: 2, taskSleepMs: 3000 });
  const holder = await start(dag, '2024-02-01');
  await running(dag, '2024-02-01');
  const waiting = await start(dag, '2024-02-02', { taskSleepMs: 0 });
  // Reset to the workflow task that handled the grant: the grant signal is applied again in the new run.
  const events = (await platform.client.workflow.getHandle(holder.workflowId).fetchHistory()).events ?? [];
  const grant = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'slotGranted');
  const completed = events.slice(0, grant).findLast((e) => e.workflowTaskCompletedEventAttributes);
  assert.ok(completed, 'a workflow task before the grant');
  await temporalCli(['workflow', 'reset', '--workflow-id', holder.workflowId, '--event-id', String(completed.eventId), '--reason', 'reset by the test']);
  const reset = (await resultOf<NoopDagResult>(platform.client, holder.workflowId)) as NoopDagResult;
  const next = (await waiting.result()) as NoopDagResult;
  assert.deepEqual(
    reset.tasks.map((t) => t.state),
    ['success', 'success'],
  );
  const resetEnd = Date.parse(reset.tasks[1].startedAt!) + reset.tasks[1].durationMs!;
  assert.ok(Date.parse(next.tasks[0].startedAt!) >= resetEnd, 'the waiting run started only after the reset run released the slot');
});

test('a slot keeper terminated while runs hold and wait for slots rebuilds its holders: the limit still holds', async () => {
  const dag = noopDagDefinition({ dagId: id('keeper'), maxActiveRuns: 1 }, { tasks: 1, taskSleepMs: 5000 });
  const first = await start(dag, '2024-03-01');
  await running(dag, '2024-03-01');
  const second = await start(dag, '2024-03-02');
  await until(
    '2024-03-02 queued',
    async () => (await platform.client.workflow.getHandle(poolWorkflowId(runsPool(dag.dagId))).describe()).status.name === 'RUNNING',
  );
  await temporalCli(['workflow', 'terminate', '--workflow-id', poolWorkflowId(runsPool(dag.dagId)), '--reason', 'terminated by the test']);
  // The waiting run asks again (every 5 s here); the new keeper finds the holder from its search attributes first.
  const [a, b] = (await Promise.all([first.result(), second.result()])) as NoopDagResult[];
  const endA = Date.parse(a.tasks[0].startedAt!) + a.tasks[0].durationMs!;
  assert.ok(Date.parse(b.tasks[0].startedAt!) >= endA, `2024-03-02 started ${endA - Date.parse(b.tasks[0].startedAt!)} ms before 2024-03-01 ended`);
});

test('one pool shared by three DAGs, 10 runs each: at most its slots are held at any instant, by the histories', async () => {
  const pool = 'warehouse';
  const size = findPool(pool)!.slots;
  const dags = ['a', 'b', 'c'].map((name, i) =>
    noopDagDefinition(
      { dagId: id(`pool_${name}`), taskPools: { task_2: { pool, poolSlots: i === 2 ? 2 : 1, priorityWeight: i + 1 } } },
      { tasks: 2, taskSleepMs: 300 },
    ),
  );
  const handles = dags.flatMap((dag) => Array.from({ length: 10 }, (_, d) => start(dag, `2024-04-${String(d + 1).padStart(2, '0')}`)));
  const runs = await Promise.all(handles);
  const results = (await Promise.all(runs.map((h) => h.result()))) as NoopDagResult[];
  assert.equal(results.filter((r) => r.tasks.every((t) => t.state === 'success')).length, 30);
  // From each history: when task_2's activity started and completed, and how many slots it took.
  const edges: Array<[number, number]> = [];
  for (const [i, h] of runs.entries()) {
    const slots = Math.floor(i / 10) === 2 ? 2 : 1;
    const events = (await platform.client.workflow.getHandle(h.workflowId).fetchHistory()).events ?? [];
    const taskTwo = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'noopTask').at(-1)!;
    const started = events.find(
      (e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(taskTwo.eventId),
    )!;
    const done = events.find(
      (e) => e.activityTaskCompletedEventAttributes && String(e.activityTaskCompletedEventAttributes.scheduledEventId) === String(taskTwo.eventId),
    )!;
    const ms = (e: typeof started) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
    edges.push([ms(started), slots], [ms(done), -slots]);
  }
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let held = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (held += d));
  assert.ok(peak <= size, `at most ${size} slots held, found ${peak}`);
  assert.ok(peak >= size - 1, `the pool was used to its size (peak ${peak})`);
});

test("a keeper left on a task queue no worker polls is started again where the DAG's runs are: the DAG does not stop starting runs", async () => {
  const dag = noopDagDefinition({ dagId: id('moved'), maxActiveRuns: 1 }, { tasks: 1 });
  const pool = runsPool(dag.dagId);
  // As a worker of the DAG's old task queue left it: running, on a queue no worker polls any more.
  await platform.client.workflow.start('poolSlots', { taskQueue: `gone_${suffix}`, workflowId: poolWorkflowId(pool), args: [{ pool }] });
  const [a, b] = (await Promise.all([start(dag, '2024-05-01').then((h) => h.result()), start(dag, '2024-05-02').then((h) => h.result())])) as NoopDagResult[];
  assert.deepEqual([a.tasks[0].state, b.tasks[0].state], ['success', 'success']);
  const keeper = await platform.client.workflow.getHandle(poolWorkflowId(pool)).describe();
  assert.equal(keeper.taskQueue, 'etl');
  assert.equal(keeper.status.name, 'RUNNING');
});
