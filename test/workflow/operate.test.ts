/**
 * Operating runs on the engine (src/run-operations.ts, workflows/dag.ts, workflows/engine.ts)
 * on the time-skipping server, with the DAG's own tasks faked in-process: a clear continues a
 * finished run from a task (what ran before it is kept, its outputs handed on as recorded), with
 * --downstream, --upstream and --failed-only; a mapped task's chosen instances; a mark in a
 * running and in a finished run; a rerun of the whole run; who asked and why, in the histories.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createTemporalActivities } from '../../activities/temporal';
import type { DagRunInput, RunSettings } from '../../src/contracts';
import type { UserTaskInput } from '../../src/operators/task/activity';
import { answerApproval, clearRuns, markTask, planClears, rerunRun } from '../../src/run-operations';
import { compileDag, dagDefinitionOf } from '../../src/sdk/compile';
import { createLogger } from '../../src/logging';
import type { DagFileRunResult } from '../../workflows/engine';
import { timeSkippingWorker } from '../support';
import { approvals, clearEtl, clearHourly, clearMapped } from './operate-dags';

const taskQueue = 'clear-tests';
/** Each task's calls: [task, day, args]. */
const calls: Array<[string, string, Record<string, unknown>]> = [];
/** Days whose load (or validate) fails; tasks held until the test lets them go. */
const failLoad = new Set<string>();
const failValidate = new Set<string>();
/** Tasks held by the test (`<task> <day>`) until it lets them go. */
const gates = new Map<string, Promise<void>>();

const EventType = temporal.api.enums.v1.EventType;
const mails: string[] = [];

const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./operate-probe'),
  activities: async () => {
    const real = createTemporalActivities({ client: plain(), logger: createLogger('silent') });
    const task =
      (name: string, work: (args: Record<string, unknown>, day: string) => unknown | Promise<unknown>) =>
      async (input: UserTaskInput & { mapIndex?: number }) => {
        const args = input.args as Record<string, unknown>;
        calls.push([name, input.ds, args]);
        await gates.get(`${name} ${input.ds}`);
        return work(args, input.ds);
      };
    return {
      runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
      recordedRun: real.recordedRun,
      mappedBatchRuns: real.mappedBatchRuns,
      previousMappedBatch: real.previousMappedBatch,
      'clear_etl.extract': task('extract', (_a, day) => ({ path: `raw/${day}.csv`, rows: 100 })),
      'clear_etl.transform': task('transform', (a) => ({ clean: (a.rows as number) - 3 })),
      'clear_etl.audit': task('audit', (a) => ({ audited: a.rows })),
      'clear_etl.load': task('load', (a, day) => {
        if (failLoad.has(day)) throw ApplicationFailure.nonRetryable(`load ${day}: the warehouse refused the partition`, 'LoadFailed');
        return { loaded: a.clean };
      }),
      'clear_etl.validate': task('validate', (_a, day) => {
        if (failValidate.has(day)) throw ApplicationFailure.nonRetryable(`validate ${day}: 2 checks failed`, 'ChecksFailed');
        return { checks: 5 };
      }),
      'clear_etl.publish': task('publish', (a) => ({ published: a.loaded })),
      'clear_mapped.listItems': task('list_items', (a) => Array.from({ length: a.n as number }, (_, i) => i * 10)),
      'clear_mapped.touch': task('touch', (a) => ({ id: a.id })),
      'clear_hourly.extract': task('extract', (a) => ({ path: `raw/${a.day}.csv`, rows: 10 })),
      'clear_hourly.transform': task('transform', (a) => ({ clean: (a.rows as number) - 1 })),
      'approvals.publish': task('publish', (a) => ({ published: a.loaded })),
      'approvals.useLimit': task('use_limit', (a) => ({ limit: a.limit })),
      sendAlert: async (input: { subject: string }) => {
        mails.push(input.subject);
        return { delivered: 'logged' };
      },
    };
  },
});

/** Holds a task until the returned function lets it go. */
function holdTask(key: string): () => void {
  let release!: () => void;
  gates.set(
    key,
    new Promise<void>((resolve) => {
      release = resolve;
    }),
  );
  return () => {
    gates.delete(key);
    release();
  };
}

let client: Client | undefined;
/** A plain client on the test server: waiting on it lets no time leap (the time-skipping client would). */
function plain(): Client {
  client ??= new Client({ connection: server.env.connection, namespace: server.env.namespace });
  return client;
}

const config = { webUiUrl: 'http://localhost:8233', temporal: { namespace: 'default' } } as never;
const ETL = { ...dagDefinitionOf(clearEtl), taskQueue };
const MAPPED = { ...dagDefinitionOf(clearMapped), taskQueue };
const graph = (file: typeof clearEtl) => compileDag(file).tasks.map((t) => ({ taskId: t.taskId, upstream: [...t.upstream] }));
const ETL_GRAPH = graph(clearEtl);
const operator = { by: 'tester', reason: 'fix deployed' };

async function runOnce(type: string, ds: string): Promise<{ runId: string; result?: DagFileRunResult; error?: string }> {
  const handle = await plain().workflow.start(type, { taskQueue, workflowId: `${type}-${ds}`, args: [{ ds }] });
  try {
    return { runId: handle.firstExecutionRunId, result: (await handle.result()) as DagFileRunResult };
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    return { runId: handle.firstExecutionRunId, error: err.cause?.message };
  }
}

const callsOf = (day: string) => calls.filter(([, d]) => d === day).map(([name]) => name);
const states = (result: DagFileRunResult) => Object.fromEntries(result.tasks.map((t) => [t.taskId, t.state]));

/** The activity types a run's history scheduled, and the input it was started with. */
async function historyOf(workflowId: string, runId: string) {
  const history = await plain().workflow.getHandle(workflowId, runId).fetchHistory();
  const scheduled = (history.events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!);
  return { scheduled, events: history.events ?? [] };
}

test('clear --task load --downstream over three failed dates: load, validate and publish run again with what transform returned; extract, transform and audit are kept', async () => {
  const days = ['2024-03-01', '2024-03-02', '2024-03-03'];
  for (const day of days) failLoad.add(day);
  const first = await Promise.all(days.map((day) => runOnce('clear_etl', day)));
  for (const run of first) assert.match(run.error!, /task load failed: load 2024-03-0\d: the warehouse refused the partition/);
  for (const day of days) failLoad.delete(day);

  // The plan first (a dry run changes nothing): the same tasks for each date.
  const targets = await planClears(plain(), ETL, ETL_GRAPH, days, { task: 'load', downstream: true });
  assert.deepEqual(
    targets.map((t) => [t.key, t.status, t.plan?.rerun, t.plan?.kept.map((k) => `${k.taskId} ${k.state}`)]),
    days.map((day) => [day, 'FAILED', ['load', 'validate', 'publish'], ['extract success', 'transform success', 'audit success']]),
  );
  for (const [i, day] of days.entries()) assert.equal((await plain().workflow.getHandle(`clear_etl-${day}`).describe()).runId, first[i].runId);
  calls.length = 0;

  const started = await clearRuns(plain(), config, ETL, targets, operator);
  assert.deepEqual(
    started.map((s) => s.workflowId),
    days.map((day) => `clear_etl-${day}`),
  );
  for (const [i, run] of started.entries()) {
    const result = (await plain().workflow.getHandle(run.workflowId, run.runId).result()) as DagFileRunResult;
    assert.deepEqual(states(result), { extract: 'success', transform: 'success', audit: 'success', load: 'success', validate: 'success', publish: 'success' });
    assert.deepEqual(callsOf(days[i]).sort(), ['load', 'publish', 'validate']);
    // load got transform's output as the first execution recorded it (100 rows - 3).
    assert.deepEqual(calls.find(([name, d]) => name === 'load' && d === days[i])![2], { day: days[i], clean: 97 });
    const { scheduled, events } = await historyOf(run.workflowId, run.runId);
    assert.deepEqual(
      scheduled.filter((t) => t.startsWith('clear_etl.')),
      ['clear_etl.load', 'clear_etl.validate', 'clear_etl.publish'],
    );
    const input = events[0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    const started = JSON.parse(Buffer.from(input.data!).toString()) as DagRunInput;
    assert.deepEqual(started.clear, { action: 'clear', runId: first[i].runId, tasks: ['load', 'validate', 'publish'], by: 'tester', reason: 'fix deployed' });
  }
});

test('a succeeded run is cleared too: a task alone, with --upstream, or only what failed (nothing, then)', async () => {
  const day = '2024-03-10';
  const first = await runOnce('clear_etl', day);
  assert.equal(first.result?.state, 'success');

  const [alone] = await planClears(plain(), ETL, ETL_GRAPH, [day], { task: 'validate' });
  assert.deepEqual(alone.plan!.rerun, ['validate']);
  const [up] = await planClears(plain(), ETL, ETL_GRAPH, [day], { task: 'transform', upstream: true });
  assert.deepEqual(up.plan!.rerun, ['extract', 'transform']);
  const [failedOnly] = await planClears(plain(), ETL, ETL_GRAPH, [day], { failedOnly: true });
  assert.equal(failedOnly.refused, 'nothing to clear: no task matches');

  calls.length = 0;
  const [run] = await clearRuns(plain(), config, ETL, [alone], operator);
  const result = (await plain().workflow.getHandle(run.workflowId, run.runId).result()) as DagFileRunResult;
  assert.equal(result.state, 'success');
  assert.deepEqual(callsOf(day), ['validate']);
  // What was kept shows as it ran the first time; the run says who cleared it, and what ran again.
  assert.equal(result.tasks.find((t) => t.taskId === 'publish')!.output?.published, 97);
});

test('--failed-only over a run whose validate failed: validate and publish run again, load is kept', async () => {
  const day = '2024-03-11';
  failValidate.add(day);
  const first = await runOnce('clear_etl', day);
  assert.match(first.error!, /task validate failed/);
  failValidate.delete(day);
  const [target] = await planClears(plain(), ETL, ETL_GRAPH, [day], { failedOnly: true });
  assert.deepEqual(target.plan!.selected, ['validate', 'publish']);
  calls.length = 0;
  const [run] = await clearRuns(plain(), config, ETL, [target], operator);
  assert.equal(((await plain().workflow.getHandle(run.workflowId, run.runId).result()) as DagFileRunResult).state, 'success');
  assert.deepEqual(callsOf(day), ['validate', 'publish']);
});

test('a running run is not cleared; mark success on a running task cancels its work and lets what follows run', async () => {
  const day = '2024-03-12';
  const release = holdTask(`validate ${day}`);
  const handle = await plain().workflow.start('clear_etl', { taskQueue, workflowId: `clear_etl-${day}`, args: [{ ds: day }] });
  for (let i = 0; i < 100 && !callsOf(day).includes('validate'); i++) await new Promise((r) => setTimeout(r, 50));
  const [target] = await planClears(plain(), ETL, ETL_GRAPH, [day], { task: 'load' });
  assert.match(target.refused!, /^still running/);

  const marked = await markTask(plain(), config, ETL, ETL_GRAPH, day, 'validate', 'success', { by: 'tester', reason: 'checked by hand' });
  assert.deepEqual(marked, { kind: 'updated', workflowId: `clear_etl-${day}`, runId: handle.firstExecutionRunId, state: 'validate success' });
  // The held try is let go: its work was cancelled, so what it returns is not taken.
  release();
  const result = (await handle.result()) as DagFileRunResult;
  assert.equal(result.state, 'success');
  assert.equal(result.tasks.find((t) => t.taskId === 'validate')!.output?.marked, 'success by tester: checked by hand');
  assert.ok(callsOf(day).includes('publish'));
  // A second mark to the same state is refused, naming it.
  await assert.rejects(
    markTask(plain(), config, ETL, ETL_GRAPH, '2024-03-12', 'nope', 'success', operator),
    /no task "nope" in clear_etl; its tasks are extract, transform, audit, load, validate, publish/,
  );
});

test('mark success on a finished run whose validate failed: the run continues, publish runs, the rest is kept', async () => {
  const day = '2024-03-13';
  failValidate.add(day);
  await runOnce('clear_etl', day);
  calls.length = 0;
  const outcome = await markTask(plain(), config, ETL, ETL_GRAPH, day, 'validate', 'success', operator);
  assert.equal(outcome.kind, 'continued');
  if (outcome.kind !== 'continued') return;
  assert.deepEqual(outcome.rerun, ['publish']);
  const result = (await plain().workflow.getHandle(outcome.run.workflowId, outcome.run.runId).result()) as DagFileRunResult;
  assert.equal(result.state, 'success');
  assert.deepEqual(callsOf(day), ['publish']);
  assert.equal(result.tasks.find((t) => t.taskId === 'validate')!.state, 'success');
  failValidate.delete(day);
});

test('rerun runs every task again; clear --map-index runs only the chosen instances of a mapped task', async () => {
  const day = '2024-03-14';
  await runOnce('clear_etl', day);
  calls.length = 0;
  const rerun = await rerunRun(plain(), config, ETL, ETL_GRAPH, day, operator);
  await plain().workflow.getHandle(rerun.workflowId, rerun.runId).result();
  assert.deepEqual(callsOf(day).sort(), ['audit', 'extract', 'load', 'publish', 'transform', 'validate']);

  const mapped = await runOnce('clear_mapped', day);
  assert.equal(mapped.result?.state, 'success');
  calls.length = 0;
  const targets = await planClears(plain(), MAPPED, graph(clearMapped), [day], { task: 'touch', mapIndexes: [1, 4] });
  assert.deepEqual(targets[0].plan!.instances, { touch: [1, 4] });
  const [run] = await clearRuns(plain(), config, MAPPED, targets, operator);
  const result = (await plain().workflow.getHandle(run.workflowId, run.runId).result()) as DagFileRunResult;
  assert.deepEqual(calls.map(([name, , args]) => `${name} ${args.id}`).sort(), ['touch 10', 'touch 40']);
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'touch')!.mapped, {
    total: 6,
    success: 6,
    failed: 0,
    reused: 4,
    batches: ['clear_mapped-2024-03-14~touch~0'],
  });
  await assert.rejects(planClears(plain(), MAPPED, graph(clearMapped), [day], { task: 'touch', mapIndexes: [9] }), /--map-index 9: touch has instances 0 to 5/);
});

const APPROVALS = { ...dagDefinitionOf(approvals), taskQueue };
/** Waits until the run's task is waiting for an answer (its state running, its output saying so). */
async function waitingFor(workflowId: string, taskId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const tasks = await plain().workflow.getHandle(workflowId).query<Array<{ taskId: string; state: string; output?: Record<string, unknown> }>>('tasks');
    const task = tasks.find((t) => t.taskId === taskId)!;
    if (task.state === 'running' && task.output?.waiting) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${taskId} never waited`);
}

test('approvals: approve, a branch choice and a typed value are checked before they are taken; a second answer is refused, naming the first', async () => {
  const day = '2024-04-01';
  const workflowId = `approvals-${day}`;
  const handle = await plain().workflow.start('approvals', { taskQueue, workflowId, args: [{ ds: day }] });
  for (const id of ['sign_off', 'pick', 'threshold']) await waitingFor(workflowId, id);
  const answer = (taskId: string, decision: 'approve' | 'reject', extra: object = {}) =>
    answerApproval(plain(), APPROVALS, day, { taskId, decision, by: 'lee', ...extra });

  await assert.rejects(answer('publish', 'approve'), /publish is not an approval task of approvals; its approval tasks are sign_off, pick, threshold/);
  await assert.rejects(answer('pick', 'approve', { choose: ['slow'] }), /pick is approved by choosing from fast, full; slow is not one of them/);
  await assert.rejects(answer('pick', 'approve'), /pick is approved by choosing from fast, full/);
  await assert.rejects(
    answer('threshold', 'approve', { value: { limit: 0 } }),
    /threshold: the value does not fit its schema: limit: Too small: expected number to be >=1/,
  );
  await assert.rejects(answer('threshold', 'approve', { value: { limit: 'ten' } }), /limit: Invalid input: expected number, received string/);
  await assert.rejects(answer('sign_off', 'approve', { value: 3 }), /sign_off takes no value/);

  assert.equal(await answer('sign_off', 'approve', { reason: 'numbers match' }), 'sign_off approved by lee');
  await assert.rejects(answer('sign_off', 'reject'), /sign_off was already approved by lee at 20\d\d-.* \(numbers match\): a second answer is refused/);
  assert.equal(await answer('pick', 'approve', { choose: ['full'] }), 'pick approved by lee');
  assert.equal(await answer('threshold', 'approve', { value: { limit: 7 } }), 'threshold approved by lee');

  const result = (await handle.result()) as DagFileRunResult;
  assert.deepEqual(states(result), {
    sign_off: 'success',
    publish: 'success',
    pick: 'success',
    fast: 'skipped',
    full: 'success',
    threshold: 'success',
    use_limit: 'success',
  });
  assert.deepEqual(calls.find(([name, d]) => name === 'use_limit' && d === day)![2], { limit: 7, by: 'lee' });
  // A finished run takes no answer.
  await assert.rejects(answer('sign_off', 'approve'), /approvals-2024-04-01 is not running \(it completed\): no approval waits in it/);
});

test('approvals: a rejection skips what follows; a timeout takes its default', async () => {
  const day = '2024-04-02';
  const workflowId = `approvals-${day}`;
  const handle = await plain().workflow.start('approvals', { taskQueue, workflowId, args: [{ ds: day }] });
  for (const id of ['sign_off', 'pick', 'threshold']) await waitingFor(workflowId, id);
  await answerApproval(plain(), APPROVALS, day, { taskId: 'sign_off', decision: 'reject', by: 'lee', reason: 'revenue looks off' });
  await answerApproval(plain(), APPROVALS, day, { taskId: 'pick', decision: 'approve', by: 'lee', choose: ['fast'] });
  // threshold's hour passes with no answer: its onTimeout value (waiting on the test server's client lets time leap).
  const result = (await server.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).result()) as DagFileRunResult;
  assert.deepEqual(states(result), {
    sign_off: 'success',
    publish: 'skipped',
    pick: 'success',
    fast: 'success',
    full: 'skipped',
    threshold: 'success',
    use_limit: 'success',
  });
  assert.deepEqual(calls.find(([name, d]) => name === 'use_limit' && d === day)![2], { limit: 5, by: 'timeout' });
  assert.ok(!calls.some(([name, d]) => name === 'publish' && d === day));
});

test("a sub-daily DAG's run is cleared by its ts: the same workflow id, transform again, extract kept", async () => {
  const ts = '2024-03-20T13:00:00+00:00';
  const HOURLY = { ...dagDefinitionOf(clearHourly), taskQueue };
  const first = await plain().workflow.start('clear_hourly', { taskQueue, workflowId: `clear_hourly-${ts}`, args: [{ ts }] });
  await first.result();
  calls.length = 0;
  const [target] = await planClears(plain(), HOURLY, graph(clearHourly), [ts], { task: 'transform' });
  assert.deepEqual([target.workflowId, target.plan!.rerun], [`clear_hourly-${ts}`, ['transform']]);
  const [run] = await clearRuns(plain(), config, HOURLY, [target], operator);
  assert.deepEqual([run.workflowId, run.ts], [`clear_hourly-${ts}`, ts]);
  await plain().workflow.getHandle(run.workflowId, run.runId).result();
  assert.deepEqual(
    calls.map(([name, , args]) => `${name} ${JSON.stringify(args)}`),
    ['transform {"path":"raw/2024-03-20T13:00:00+00:00.csv","rows":10}'],
  );
});
