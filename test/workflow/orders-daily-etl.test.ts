/**
 * Control flow of orders_daily_etl on the time-skipping test server, with faked activities:
 * task order and XCom, the empty branch, bad input, retries as default_args define them, and
 * email_on_failure.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import { slotsWorkflowId, type AlertInput, type RunSettings, type SlotRequest, type TaskRecord } from '../../src/contracts';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { workflowsEntry } from '../../src/worker';
import { workflowFailure, timeSkippingWorker } from '../support';

type Calls = Array<[string, unknown]>;

/** The activities of the DAG file's own tasks (workflows/dags/orders_daily_etl/activities.ts). */
const OWN_TASKS = ['extract', 'extractFromDb', 'transform', 'load', 'validate', 'dbtRun'] as const;

/** Fake activities that record their calls; each can be replaced per test. */
function fakes(calls: Calls, overrides: Partial<Record<keyof Activities | (typeof OWN_TASKS)[number], (input: never) => Promise<unknown>>> = {}) {
  const record =
    <I, R>(name: string, result: (input: I) => R | Promise<R>) =>
    async (input: I) => {
      calls.push([name, input]);
      const override = overrides[name as keyof typeof overrides] as ((i: I) => Promise<R>) | undefined;
      return override ? override(input) : result(input);
    };
  return {
    runSettings: record<void, RunSettings>('runSettings', () => ({ dbtTarget: 'prod' })),
    extract: record('extract', ({ ds }: { ds: string }) => ({
      rowCount: 100,
      file: `/data/raw/orders_${ds}.csv`,
      bytes: 4200,
      stagingTable: 'staging.orders',
      stagedRows: 98,
      stagedRejects: 2,
      lines: { lines: 102, header: 1, blank: 1, records: 99, recordLines: 99, malformed: 1 },
    })),
    extractFromDb: record('extractFromDb', ({ connId }: { connId: string }) => ({
      rowCount: 100,
      file: `${connId}:source.orders`,
      bytes: 0,
      stagingTable: 'staging.orders_raw',
    })),
    checkSql: record('checkSql', () => ({ found: true })),
    transform: record('transform', () => ({ cleanRows: 97, rejectedRows: 3, cleanTable: 'c', rejectedTable: 'r' })),
    load: record('load', () => ({ loadedRows: 97, rejectedRows: 3, replacedRows: 0 })),
    validate: record('validate', () => ({ checksPassed: 5 })),
    dbtRun: record('dbtRun', () => ({
      models: [
        { model: 'stg_orders', status: 'success', executionTimeSeconds: 0.1 },
        { model: 'daily_revenue', status: 'success', executionTimeSeconds: 0.2 },
      ],
    })),
    sendAlert: record('sendAlert', () => ({ delivered: 'logged' as const })),
    checkFile: record('checkFile', () => ({ found: true })),
    pokeFile: record('pokeFile', () => ({ found: true, timedOut: false, checks: 1 })),
    // Bookkeeping works for real against the test server: the slot keeper runs on this test's queue.
    requestRunSlot: record('requestRunSlot', async (request: SlotRequest) => {
      await server.env.client.workflow.signalWithStart('dagRunSlots', {
        workflowId: slotsWorkflowId(request.dagId),
        taskQueue,
        args: [{ dagId: request.dagId }],
        signal: 'acquireSlot',
        signalArgs: [request],
      });
    }),
    runStatuses: record('runStatuses', async ({ workflowIds }: { workflowIds: string[] }) => ({
      statuses: Object.fromEntries(
        await Promise.all(workflowIds.map(async (id) => [id, (await server.env.client.workflow.getHandle(id).describe()).status.name])),
      ),
    })),
  };
}

/** One worker for every test: the DAG's slot keeper, started by the first run, serves them all. */
const taskQueue = 'etl-workflow-tests';
let current: Record<string, (input: never) => Promise<unknown>> = {};
const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: workflowsEntry(),
  // Each activity calls the current test's fake of the same name; the DAG's own tasks get their args.
  activities: async () =>
    Object.fromEntries(
      Object.keys(fakes([])).map((name) =>
        (OWN_TASKS as readonly string[]).includes(name)
          ? [`orders_daily_etl.${name}`, (input: { args: never }) => current[name](input.args)]
          : [name, (arg: never) => current[name](arg)],
      ),
    ),
});

async function runDag(activities: object, input: unknown, workflowId: string): Promise<OrdersDailyEtlResult> {
  current = activities as typeof current;
  return (await server.env.client.workflow.execute('ordersDailyEtl', { taskQueue, workflowId, args: [input] })) as OrdersDailyEtlResult;
}

const states = (tasks: TaskRecord[]) => Object.fromEntries(tasks.map((t) => [t.taskId, t.state]));

test('the happy path runs the tasks in DAG order and passes row_count along', async () => {
  const calls: Calls = [];
  const result = await runDag(fakes(calls), { ds: '2024-01-15' }, 'orders_daily_etl-2024-01-15');
  assert.deepEqual(calls, [
    ['runSettings', undefined],
    [
      'requestRunSlot',
      {
        dagId: 'orders_daily_etl',
        capacity: 1,
        holder: { workflowId: 'orders_daily_etl-2024-01-15', runId: calls[1][1] && (calls[1][1] as SlotRequest).holder.runId, ds: '2024-01-15' },
      },
    ],
    ['checkFile', { path: 'raw/orders_2024-01-15.csv', settleSeconds: 5 }],
    ['extract', { ds: '2024-01-15' }],
    ['transform', { ds: '2024-01-15', rowCount: 100, stagedRows: 98, stagedRejects: 2 }],
    // Write, audit, publish: load gets what transform left and the DAG's max_rejected_ratio.
    ['load', { ds: '2024-01-15', rowCount: 100, cleanRows: 97, rejectedRows: 3, maxRejectedRatio: 0.05 }],
    ['validate', { ds: '2024-01-15', rowCount: 100, lines: { lines: 102, header: 1, blank: 1, records: 99, recordLines: 99, malformed: 1 } }],
    // The worker's dbt target (BATON_DBT_TARGET) is its own.
    ['dbtRun', { ds: '2024-01-15', select: 'tag:orders' }],
  ]);
  assert.equal(result.state, 'success');
  assert.deepEqual([result.rowCount, result.loadedRows, result.rejectedRows], [100, 97, 3]);
  assert.deepEqual(
    result.models.map((m) => `${m.model}:${m.status}`),
    ['stg_orders:success', 'daily_revenue:success'],
  );
  assert.deepEqual(states(result.tasks), {
    choose_source: 'success',
    wait_for_file: 'success',
    extract: 'success',
    wait_for_data: 'skipped',
    extract_from_db: 'skipped',
    check_data: 'success',
    transform: 'success',
    load: 'success',
    validate: 'success',
    dbt_run: 'success',
    send_empty_alert: 'skipped',
  });
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'choose_source')?.output, { follow: 'wait_for_file' });
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'extract')?.output, { rowCount: 100, rejected: 2, lines: 102 });
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'check_data')?.output, { follow: 'transform' });
});

test('an empty extract branches to send_empty_alert and skips the rest', async () => {
  const calls: Calls = [];
  const activities = fakes(calls, { extract: async () => ({ rowCount: 0, file: 'f', bytes: 46, stagingTable: 't' }) });
  const result = await runDag(activities, { ds: '2024-01-16' }, 'orders_daily_etl-2024-01-16');
  assert.deepEqual(
    calls.map(([name]) => name),
    ['runSettings', 'requestRunSlot', 'checkFile', 'extract', 'sendAlert'],
  );
  const alert = calls[4][1] as AlertInput;
  assert.equal(alert.subject, '[orders_daily_etl] no orders for 2024-01-16');
  assert.deepEqual(alert.to, ['alerts@company.com']);
  assert.equal(result.state, 'success_with_skips');
  assert.deepEqual(states(result.tasks), {
    choose_source: 'success',
    wait_for_file: 'success',
    extract: 'success',
    wait_for_data: 'skipped',
    extract_from_db: 'skipped',
    check_data: 'success',
    transform: 'skipped',
    load: 'skipped',
    validate: 'skipped',
    dbt_run: 'skipped',
    send_empty_alert: 'success',
  });
});

test('source "db": wait_for_data polls source.orders on postgres_prod, extract_from_db stages it, the file path is skipped', async () => {
  const calls: Calls = [];
  let polls = 0;
  const activities = fakes(calls, {
    checkSql: async () => (++polls < 3 ? { found: false, reason: 'postgres_prod: the query returned "0"' } : { found: true }),
  });
  const result = await runDag(activities, { ds: '2024-01-21', conf: { source: 'db' } }, 'orders_daily_etl-2024-01-21');
  assert.deepEqual(
    calls.map(([name]) => name),
    ['runSettings', 'requestRunSlot', 'checkSql', 'checkSql', 'checkSql', 'extractFromDb', 'transform', 'load', 'validate', 'dbtRun'],
  );
  assert.deepEqual(calls[2][1], { text: 'SELECT COUNT(*) FROM source.orders WHERE date = $1', params: ['2024-01-21'], connId: 'postgres_prod' });
  assert.deepEqual(calls[5][1], { ds: '2024-01-21', connId: 'postgres_prod' });
  assert.equal(result.state, 'success');
  assert.deepEqual(states(result.tasks), {
    choose_source: 'success',
    wait_for_file: 'skipped',
    extract: 'skipped',
    wait_for_data: 'success',
    extract_from_db: 'success',
    check_data: 'success',
    transform: 'success',
    load: 'success',
    validate: 'success',
    dbt_run: 'success',
    send_empty_alert: 'skipped',
  });
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'wait_for_data')?.output, { checks: 3 });
});

test('conf skip_dbt loads the day and skips dbt_run', async () => {
  const calls: Calls = [];
  const result = await runDag(fakes(calls), { ds: '2024-01-24', conf: { skip_dbt: true } }, 'orders_daily_etl-2024-01-24');
  assert.deepEqual(
    calls.map(([name]) => name),
    ['runSettings', 'requestRunSlot', 'checkFile', 'extract', 'transform', 'load', 'validate'],
  );
  assert.equal(result.state, 'success');
  assert.deepEqual(result.models, []);
  assert.equal(states(result.tasks).dbt_run, 'skipped');
});

test('an unknown source fails the run before any task, naming it', async () => {
  const calls: Calls = [];
  const err = await workflowFailure(runDag(fakes(calls), { ds: '2024-01-23', conf: { source: 'ftp' } }, 'orders_daily_etl-2024-01-23'));
  assert.match(err.message, /^orders_daily_etl: bad params, no task was run: params\.source: .* \(conf gave "ftp"\)$/);
  assert.equal(err.type, 'InvalidParams');
  assert.deepEqual(calls, []);
});

test('an invalid ds fails the run at once, naming the value, before any task', async () => {
  for (const [ds, message] of [
    ['2024-02-30', 'orders_daily_etl: ds "2024-02-30" is not a real calendar date'],
    ['../x', 'orders_daily_etl: ds "../x" is not a date in the form YYYY-MM-DD'],
    ["'; drop table", `orders_daily_etl: ds "'; drop table" is not a date in the form YYYY-MM-DD`],
  ]) {
    const calls: Calls = [];
    const err = await workflowFailure(runDag(fakes(calls), { ds }, `bad-ds-${ds}`));
    assert.equal(err.message, message);
    assert.equal(err.type, 'InvalidLogicalDate');
    assert.deepEqual(calls, []);
  }
});

test('retries=2, retry_delay=5m: a task gets 3 attempts, 5 minutes apart', async () => {
  const calls: Calls = [];
  const attemptTimes: number[] = [];
  const activities = fakes(calls, {
    extract: async () => {
      attemptTimes.push(await server.env.currentTimeMs());
      if (attemptTimes.length < 3) throw new Error('connection reset');
      return { rowCount: 5, file: 'f', bytes: 1, stagingTable: 't' };
    },
  });
  const result = await runDag(activities, { ds: '2024-01-17' }, 'orders_daily_etl-2024-01-17');
  assert.equal(result.state, 'success');
  assert.equal(calls.filter(([name]) => name === 'extract').length, 3);
  const gaps = attemptTimes.slice(1).map((t, i) => (t - attemptTimes[i]) / 60_000);
  for (const gap of gaps) assert.ok(gap >= 4.9 && gap < 6, `gap of ${gap} minutes`);
});

test('when retries are spent the run fails naming the task, and one failure alert goes out', async () => {
  const calls: Calls = [];
  const activities = fakes(calls, {
    transform: async () => {
      throw new Error('relation "staging.x" does not exist');
    },
  });
  const err = await workflowFailure(runDag(activities, { ds: '2024-01-18' }, 'orders_daily_etl-2024-01-18'));
  assert.equal(err.message, 'task transform failed: relation "staging.x" does not exist');
  assert.equal(calls.filter(([name]) => name === 'transform').length, 3);
  const alerts = calls.filter(([name]) => name === 'sendAlert').map(([, input]) => input as AlertInput);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].subject, '[orders_daily_etl] 2024-01-18 failed at transform');
  assert.match(alerts[0].body, /^task transform failed: relation "staging.x" does not exist\nworkflow orders_daily_etl-2024-01-18, run /);
  assert.deepEqual(
    calls.map(([name]) => name).filter((n) => ['load', 'validate', 'dbtRun'].includes(n)),
    [],
  );
  const tasks = states(await server.env.client.workflow.getHandle('orders_daily_etl-2024-01-18').query<TaskRecord[]>('tasks'));
  assert.deepEqual(tasks, {
    choose_source: 'success',
    wait_for_file: 'success',
    extract: 'success',
    wait_for_data: 'skipped',
    extract_from_db: 'skipped',
    check_data: 'success',
    transform: 'failed',
    load: 'upstream_failed',
    validate: 'upstream_failed',
    dbt_run: 'upstream_failed',
    send_empty_alert: 'skipped',
  });
});

test('a non-retryable failure is not retried', async () => {
  const calls: Calls = [];
  const activities = fakes(calls, {
    validate: async () => {
      throw ApplicationFailure.nonRetryable('validation of orders 2024-01-19 failed 1 of 5 checks: amount < 0 in 2 rows', 'ValidationFailed');
    },
  });
  const err = await workflowFailure(runDag(activities, { ds: '2024-01-19' }, 'orders_daily_etl-2024-01-19'));
  assert.equal(err.message, 'task validate failed: validation of orders 2024-01-19 failed 1 of 5 checks: amount < 0 in 2 rows');
  assert.equal(calls.filter(([name]) => name === 'validate').length, 1);
  assert.equal(calls.filter(([name]) => name === 'dbtRun').length, 0);
});

test('worker config overrides the retry policy (BATON_RETRY_DELAY, BATON_RETRY_ATTEMPTS)', async () => {
  const calls: Calls = [];
  const attemptTimes: number[] = [];
  const activities = fakes(calls, {
    runSettings: async () => ({ dbtTarget: 'dev', retryDelay: '1s', maximumAttempts: 2 }),
    load: async () => {
      attemptTimes.push(await server.env.currentTimeMs());
      throw new Error('deadlock detected');
    },
  });
  await workflowFailure(runDag(activities, { ds: '2024-01-20' }, 'orders_daily_etl-2024-01-20'));
  assert.equal(calls.filter(([name]) => name === 'load').length, 2);
  const gap = (attemptTimes[1] - attemptTimes[0]) / 1000;
  assert.ok(gap >= 0.9 && gap < 30, `gap of ${gap} seconds`);
});
