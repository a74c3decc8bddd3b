/**
 * waitForDag (Airflow's ExternalTaskSensor) on the DAG engine and the time-skipping server, with
 * its real activity reading the other DAG's runs: a weekly DAG waiting for the daily run of the
 * day before, which comes later; a run that failed; one task of a run, succeeded, skipped or
 * failed; and time-outs with and without softFail. The other DAG's commands are faked.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from '@temporalio/client';
import type { CommandOperatorInput } from '../../src/operators/command/activity';
import type { RunSettings, TaskRecord } from '../../src/contracts';
import type { DagDefinition } from '../../src/dags';
import { createWaitForDagOperator, type WaitForDagCheckInput } from '../../src/operators/wait-for-dag/activity';
import type { DagFileRunResult } from '../../workflows/engine';
import { timeSkippingWorker, workflowFailure } from '../support';

const taskQueue = 'wait-for-dag-tests';
const commands: CommandOperatorInput[] = [];
const checks: WaitForDagCheckInput[] = [];

/** wait_daily as the catalog sees it (the probe is not loaded here: it pulls in the engine). */
const DAILY = {
  dagId: 'wait_daily',
  workflowType: 'wait_daily',
  taskQueue,
  schedule: '@daily',
  timezone: 'UTC',
  timetable: 'interval',
  tags: [],
  description: '',
  defaultArgs: { owner: 'airflow' },
} as unknown as DagDefinition;

let plain: Client | undefined;
/** A plain client: waiting on the time-skipping one lets time leap ahead, which only the tests that wait for timers want. */
const client = () => (plain ??= new Client({ connection: server.env.connection, namespace: server.env.namespace }));

const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./wait-for-dag-probe'),
  activities: {
    runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
    operatorCommand: async (input: CommandOperatorInput) => {
      commands.push(input);
      const [program, arg] = input.argv;
      if (arg === 'fail') throw ApplicationFailure.retryable(`${program} exited with 1`, 'CommandFailed');
      if (arg === 'slow') await new Promise((r) => setTimeout(r, 3_000));
      return { exitCode: 0, tail: input.argv.join(' ') };
    },
    // The real check, reading runs through a plain client; the DAGs it may wait for are those of this worker's queue.
    operatorWaitForDag: async (input: WaitForDagCheckInput) => {
      try {
        return await createWaitForDagOperator(client(), new Map([['wait_daily', DAILY]]))(input);
      } finally {
        checks.push(input); // once answered
      }
    },
  },
});

/** A run of wait_daily for `ds`, under the workflow id a waitForDag looks for. */
const startDaily = (ds: string, params: { load?: 'ok' | 'fail' | 'slow'; maybe?: boolean } = {}) =>
  client().workflow.start('wait_daily', { taskQueue, workflowId: `wait_daily-${ds}`, args: [{ ds, conf: params }] });
const startWaiter = (dagId: string, ds: string) => server.client.workflow.start(dagId, { taskQueue, workflowId: `${dagId}-${ds}`, args: [{ ds }] });
const table = (tasks: TaskRecord[]) => Object.fromEntries(tasks.map((t) => [t.taskId, t.state]));
const checksOf = (ds: string, taskId?: string) => checks.filter((c) => c.ds === ds && (taskId === undefined || c.taskId === taskId));
const commandsOf = (ds: string) => commands.filter((c) => c.ds === ds).map((c) => c.argv.join(' '));

async function until(what: string, condition: () => Promise<boolean> | boolean) {
  for (const deadline = Date.now() + 10_000; !(await condition());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a weekly DAG waits for the daily run of the day before, started later, and succeeds once it has; its output names that run', async () => {
  const waiter = await startWaiter('wait_weekly', '2024-04-08');
  // The first check finds no run of Sunday: not yet.
  await until('the first check', () => checksOf('2024-04-08').length === 1);
  assert.deepEqual(checksOf('2024-04-08'), [
    { dagId: 'wait_weekly', taskId: 'sunday_done', ds: '2024-04-08', attempt: 1, dag: 'wait_daily', runDs: '2024-04-07', runTs: '2024-04-07T06:00:00+00:00' },
  ]);
  await client().workflow.execute('wait_daily', { taskQueue, workflowId: 'wait_daily-2024-04-07', args: [{ ds: '2024-04-07' }] });

  const result = (await waiter.result()) as DagFileRunResult;
  assert.equal(result.state, 'success');
  const sunday = result.tasks.find((t) => t.taskId === 'sunday_done')!;
  assert.deepEqual(
    [sunday.state, sunday.output],
    ['success', { dagId: 'wait_daily', ds: '2024-04-07', workflowId: 'wait_daily-2024-04-07', state: 'success', checks: 2 }],
  );
  assert.deepEqual(commandsOf('2024-04-08'), ['report 2024-04-07 wait_daily-2024-04-07 2']);
  // The wait between the two checks is a workflow timer of the poke interval.
  const { events } = await waiter.fetchHistory();
  const timers = (events ?? []).flatMap((e) => (e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds)] : []));
  assert.deepEqual(timers, [600]);
});

test('a run waited for that failed fails the waiter for good at its first check, naming the run and its failure; what follows does not run', async () => {
  const failure = await workflowFailure(startDaily('2024-04-14', { load: 'fail' }).then((h) => h.result()));
  assert.equal(failure.message, 'task load failed: load exited with 1');

  const waiter = await startWaiter('wait_weekly', '2024-04-15');
  const failed = await workflowFailure(client().workflow.getHandle(waiter.workflowId).result());
  assert.equal(failed.message, "task sunday_done failed: sunday_done: wait_daily's run wait_daily-2024-04-14 failed: task load failed: load exited with 1");
  assert.deepEqual(table(await waiter.query<TaskRecord[]>('tasks')), { sunday_done: 'failed', report: 'upstream_failed' });
  assert.equal(checksOf('2024-04-15').length, 1);
  assert.deepEqual(commandsOf('2024-04-15'), []);
});

test('a task of a run still in flight: its success is enough; a skipped one skips the waiter and, under all_success, what follows it', async () => {
  const daily = await startDaily('2024-04-20', { load: 'slow' });
  await until('extract succeeded and maybe was skipped', async () => {
    const states = table(await daily.query<TaskRecord[]>('tasks'));
    return states.extract === 'success' && states.maybe === 'skipped';
  });

  const result = (await client().workflow.execute('wait_tasks', {
    taskQueue,
    workflowId: 'wait_tasks-2024-04-20',
    args: [{ ds: '2024-04-20' }],
  })) as DagFileRunResult;
  // wait_daily's load is still sleeping: the waiter did not wait for the whole run.
  assert.equal((await daily.describe()).status.name, 'RUNNING');
  assert.equal(result.state, 'success_with_skips');
  assert.deepEqual(table(result.tasks), { extracted: 'success', use_extract: 'success', maybe_done: 'skipped', after_maybe: 'skipped' });
  const byId = Object.fromEntries(result.tasks.map((t) => [t.taskId, t.output]));
  assert.deepEqual(byId.extracted, { dagId: 'wait_daily', ds: '2024-04-20', workflowId: 'wait_daily-2024-04-20', state: 'success', checks: 1 });
  assert.deepEqual(byId.maybe_done, { checks: 1, skipped: "wait_daily's task maybe was skipped in wait_daily-2024-04-20" });
  assert.deepEqual(commandsOf('2024-04-20'), ['extract', 'load slow', 'use_extract']);
  // extracted is deferrable: its check is a local activity (a marker in the history), maybe_done's an activity task.
  const { events } = await client().workflow.getHandle('wait_tasks-2024-04-20').fetchHistory();
  const scheduled = (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  const local = (events ?? []).flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString()) as { activity_type: string }).activity_type] : [];
  });
  assert.deepEqual([scheduled.filter((t) => t === 'operatorWaitForDag').length, local.filter((t) => t === 'operatorWaitForDag').length], [1, 1]);
  await daily.result();
});

test('a task that failed fails its waiter, naming the task, its run and its error; a task that succeeded in that failed run is enough for another', async () => {
  await workflowFailure(startDaily('2024-04-21', { load: 'fail' }).then((h) => h.result()));

  // wait_load's ds is the day after: its templated ds is the day before.
  const load = await workflowFailure(client().workflow.execute('wait_load', { taskQueue, workflowId: 'wait_load-2024-04-22', args: [{ ds: '2024-04-22' }] }));
  assert.equal(load.message, "task loaded failed: loaded: wait_daily's task load failed in wait_daily-2024-04-21: load exited with 1");

  const tasks = (await client().workflow.execute('wait_tasks', {
    taskQueue,
    workflowId: 'wait_tasks-2024-04-21',
    args: [{ ds: '2024-04-21' }],
  })) as DagFileRunResult;
  assert.deepEqual(table(tasks.tasks), { extracted: 'success', use_extract: 'success', maybe_done: 'skipped', after_maybe: 'skipped' });
});

test('a run that never comes: the time-out fails one waiter after its checks, and skips a soft-failing one (backing off) and what follows it', async () => {
  const waiter = await startWaiter('wait_timeouts', '2024-05-01');
  const failure = await workflowFailure(waiter.result());
  const reason = "wait_daily's run wait_daily-2024-05-01 has not started";
  assert.equal(failure.message, `task hard failed: sensor timed out after 300s and 6 checks: ${reason}`);
  const tasks = await waiter.query<TaskRecord[]>('tasks');
  assert.deepEqual(table(tasks), { hard: 'failed', soft: 'skipped', after_soft: 'skipped' });
  assert.deepEqual(tasks.find((t) => t.taskId === 'soft')!.output, { checks: 4, skipped: `sensor timed out after 300s and 4 checks: ${reason}` });
  assert.deepEqual([checksOf('2024-05-01', 'hard').length, checksOf('2024-05-01', 'soft').length], [6, 4]);
  // hard checks every minute; soft after 1, 2, then the 2 minutes left. Each last wait is what is
  // left of the 5 minutes: the checks' own time (real time, on a loaded machine a second or so)
  // comes off it.
  const { events } = await waiter.fetchHistory();
  const timers = (events ?? []).flatMap((e) => {
    const after = e.timerStartedEventAttributes?.startToFireTimeout;
    return after ? [Number(after.seconds) + (after.nanos ?? 0) / 1e9] : [];
  });
  const expected = [60, 60, 60, 60, 60, 60, 120, 120];
  assert.equal(timers.length, expected.length, `timers: ${timers.join(', ')}`);
  timers.sort((a, b) => a - b).forEach((seconds, i) => assert.ok(seconds > expected[i] - 5 && seconds <= expected[i], `timers: ${timers.join(', ')}`));
  assert.deepEqual(commandsOf('2024-05-01'), []);
});
