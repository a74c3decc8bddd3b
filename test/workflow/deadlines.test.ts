/**
 * Deadlines and notifiers on the engine (workflows/notifiers.ts), on the time-skipping server: a
 * run still going at its deadline alerts exactly once, its worker restarted before the deadline;
 * a run done in time alerts nothing; each event reaches the notifiers that chose it (a task's
 * own, the DAG's), with what happened where.
 */
import assert from '../support/assert';
import { afterAll, beforeAll, test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AlertInput, NotifierInput, RunSettings } from '../../src/contracts';
import type { UserTaskInput } from '../../src/operators/task/activity';
import { workflowBundlerOptions } from '../../src/worker';
import { startTimeSkippingEnv } from '../support';

const taskQueue = 'deadline-tests';
const hooks: NotifierInput[] = [];
const mails: AlertInput[] = [];
/** Rows count returns, by day; flaky fails its first try. */
const rows = new Map<string, number>();
const failCount = new Set<string>();

const activities = {
  runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
  notifyWebhook: async (input: NotifierInput) => {
    hooks.push(input);
    return { status: 200 };
  },
  sendAlert: async (input: AlertInput) => {
    mails.push(input);
    return { delivered: 'logged' as const };
  },
  'events.flaky': async (input: UserTaskInput) => {
    if (input.attempt === 1) throw ApplicationFailure.retryable('the source timed out', 'Timeout');
    return { rows: 1 };
  },
  'events.count': async (input: UserTaskInput) => {
    if (failCount.has(input.ds)) throw ApplicationFailure.nonRetryable('count: relation "staging.x" does not exist', 'Missing');
    return { rows: rows.get(input.ds) ?? 3 };
  },
};

let env: TestWorkflowEnvironment;
let worker: { worker: Worker; running: Promise<void> } | undefined;
async function startWorker() {
  const w = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./deadlines-probe'),
    bundlerOptions: workflowBundlerOptions,
    activities,
    // No sticky cache carried over: a new worker replays the history.
    maxCachedWorkflows: 0,
  });
  worker = { worker: w, running: w.run() };
}
async function stopWorker() {
  worker?.worker.shutdown();
  await worker?.running;
  worker = undefined;
}

beforeAll(async () => {
  env = await startTimeSkippingEnv();
  await startWorker();
});
afterAll(async () => {
  await stopWorker();
  await env?.teardown();
});

/** Waits, without letting time leap, until the run's hold task waits for its answer. */
async function holding(workflowId: string): Promise<void> {
  const plain = new Client({ connection: env.connection, namespace: env.namespace });
  for (let i = 0; i < 200; i++) {
    const tasks = await plain.workflow.getHandle(workflowId).query<Array<{ taskId: string; state: string }>>('tasks');
    if (tasks.find((t) => t.taskId === 'hold')?.state === 'running') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${workflowId}: hold never waited`);
}

test('a run still going at its deadline alerts exactly once, to the notifiers that chose deadline, though its worker restarted before the deadline', async () => {
  const workflowId = 'deadlines-2024-06-01';
  hooks.length = 0;
  mails.length = 0;
  const handle = await env.client.workflow.start('deadlines', { taskQueue, workflowId, args: [{ ds: '2024-06-01' }] });
  await holding(workflowId);
  // The worker goes away before the deadline; a new one replays the run and keeps its timer.
  await stopWorker();
  await startWorker();
  const result = (await handle.result()) as { state: string };
  assert.equal(result.state, 'success');
  const deadline = hooks.filter((h) => h.event === 'deadline');
  assert.equal(deadline.length, 1, JSON.stringify(hooks));
  // When the timer fires the run is late by how long the worker took to take the fire: a moment.
  const late = Number(/, (\d+)s late$/.exec(deadline[0].message)?.[1]);
  assert.ok(late < 60, deadline[0].message);
  assert.deepEqual(
    { ...deadline[0], message: deadline[0].message.replace(/= \S+\)/, '= T)').replace(/\d+s late$/, 'Ns late') },
    {
      conn: 'ops_hook',
      event: 'deadline',
      dagId: 'deadlines',
      ds: '2024-06-01',
      state: 'running',
      message: 'the run is not done by its deadline (run_start + 30m = T): it is at hold, Ns late',
    },
  );
  assert.deepEqual(
    mails.map((m) => [m.to, m.subject]),
    [[['oncall@example.com'], '[deadlines] 2024-06-01: deadline']],
  );
  // The approval waiting and the run's success went to the webhook too, each once.
  assert.deepEqual(
    hooks.map((h) => h.event),
    ['approval', 'deadline', 'success'],
  );
});

test('a run done in time alerts nothing', async () => {
  hooks.length = 0;
  const result = (await env.client.workflow.execute('in_time', { taskQueue, workflowId: 'in_time-2024-06-01', args: [{ ds: '2024-06-01' }] })) as {
    state: string;
  };
  assert.equal(result.state, 'success');
  assert.deepEqual(hooks, []);
});

test("events reach the notifiers that chose them: a retry and an empty day to the DAG's, a task's failure to its own and the run's failure to the DAG's", async () => {
  hooks.length = 0;
  rows.set('2024-06-02', 0);
  await env.client.workflow.execute('events', { taskQueue, workflowId: 'events-2024-06-02', args: [{ ds: '2024-06-02' }] });
  assert.deepEqual(
    hooks.map((h) => [h.conn, h.event, h.taskId ?? null, h.state]),
    [
      ['ops_hook', 'retry', 'flaky', 'up_for_retry'],
      ['team_hook', 'success', 'count', 'success'],
      ['ops_hook', 'empty', null, 'success'],
      ['ops_hook', 'success', null, 'success'],
    ],
  );
  assert.equal(hooks[0].error, 'the source timed out');

  hooks.length = 0;
  failCount.add('2024-06-03');
  await assert.rejects(env.client.workflow.execute('events', { taskQueue, workflowId: 'events-2024-06-03', args: [{ ds: '2024-06-03' }] }));
  assert.deepEqual(
    hooks.filter((h) => h.event !== 'retry').map((h) => [h.conn, h.event, h.taskId ?? null, h.message, h.error]),
    [
      ['team_hook', 'failure', 'count', 'failed', 'count: relation "staging.x" does not exist'],
      ['ops_hook', 'failure', 'count', 'the run failed at count', 'count: relation "staging.x" does not exist'],
    ],
  );
});
