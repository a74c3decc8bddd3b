/**
 * The reference pipelines' DAG files, their pure parts run directly: the definition the schedule
 * sync reads, the params and their defaults, each branch's choice, the args each task computes
 * from XCom, what the task table shows, the run's result; and their tasks' activities, which hand
 * their args to Baton's own activities on the worker.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { DbtOutcome, TaskContext } from 'baton/task';
import { ordersDailyEtlDag, ordersEtlFlow } from '../support/reference-dags';
import { compileDag } from '../../src/sdk/compile';
import type { UserTask } from '../../src/operators/task/definition';
import { userTaskArgs } from '../../src/operators/task/step';
import type { RunContext, TaskDefinition } from '../../src/sdk/types';
import ordersEtl from '../../workflows/dags/orders-etl/dag';
import ordersDaily from '../../workflows/dags/orders_daily_etl/dag';
import * as dailyTasks from '../../workflows/dags/orders_daily_etl/activities';

const ds = '2024-01-15';
const run = (over: Partial<RunContext> = {}): RunContext => ({
  dagId: 'orders_daily_etl',
  ds,
  ds_nodash: '20240115',
  ts: '2024-01-15T00:00:00+00:00',
  ts_nodash: '20240115T000000',
  data_interval_start: '2024-01-15T00:00:00.000Z',
  data_interval_end: '2024-01-16T00:00:00.000Z',
  params: ordersDaily.params!.parse({}),
  conf: {},
  xcom: {},
  states: {},
  cached: {},
  ...over,
});
const extracted = { rowCount: 100, file: 'f', bytes: 4200, stagingTable: 's', stagedRows: 98, stagedRejects: 2, keyCandidates: 3, lines: { lines: 102 } };
const transformed = { cleanRows: 97, rejectedRows: 3, cleanTable: 'c', rejectedTable: 'r' };
type Fn = (value: never) => unknown;
const fn = (task: TaskDefinition, key: 'summary' | 'skipIf' | 'choose') => (task as unknown as Record<string, Fn>)[key] as (value: unknown) => unknown;
/** A task's args as the engine computes them for the run: references resolved, templates rendered. */
const argsOf = (task: TaskDefinition) => (ctx: RunContext) => userTaskArgs(task as UserTask, ctx);

test("orders_daily_etl's DAG file keeps the Airflow DAG's definition, graph and params", () => {
  const dag = compileDag(ordersDaily);
  assert.deepEqual(
    [dag.workflowType, dag.definition.schedule, dag.definition.maxActiveRuns, dag.definition.catchup, dag.definition.defaultArgs],
    ['ordersDailyEtl', '0 6 * * *', 1, false, { ...ordersDailyEtlDag.defaultArgs }],
  );
  assert.deepEqual(dag.order, [
    'choose_source',
    'wait_for_file',
    'extract',
    'wait_for_data',
    'extract_from_db',
    'check_data',
    'transform',
    'load',
    'validate',
    'dbt_run',
    'send_empty_alert',
  ]);
  assert.deepEqual(ordersDaily.params!.parse({}), { source: 'file', max_rejected_ratio: 0.05, skip_dbt: false });
  assert.equal(ordersDaily.params!.safeParse({ max_rejected_ratio: 2 }).success, false);
  assert.equal(ordersDaily.params!.safeParse({ source: 'ftp' }).success, false);
});

test("orders_daily_etl's branches, args, summaries and result", () => {
  const t = ordersDaily.tasks;
  assert.equal(fn(t.choose_source, 'choose')(run()), 'wait_for_file');
  assert.equal(fn(t.choose_source, 'choose')(run({ params: { ...run().params, source: 'db' } })), 'wait_for_data');
  assert.equal(fn(t.check_data, 'choose')(run({ xcom: { extract: extracted } })), 'transform');
  assert.equal(fn(t.check_data, 'choose')(run({ xcom: { extract_from_db: { ...extracted, rowCount: 0 } } })), 'send_empty_alert');

  const done = run({ xcom: { extract: extracted, transform: transformed, load: { loadedRows: 97, rejectedRows: 3, replacedRows: 0 } } });
  assert.deepEqual(argsOf(t.transform)(done), { ds, rowCount: 100, stagedRows: 98, stagedRejects: 2, keyCandidates: 3 });
  assert.deepEqual(argsOf(t.load)(done), { ds, rowCount: 100, cleanRows: 97, rejectedRows: 3, maxRejectedRatio: 0.05 });
  assert.deepEqual(argsOf(t.validate)(done), { ds, rowCount: 100, lines: { lines: 102 } });
  assert.equal(fn(t.dbt_run, 'skipIf')(done), false);
  assert.equal(fn(t.dbt_run, 'skipIf')(run({ params: { ...run().params, skip_dbt: true } })), 'conf skip_dbt');

  assert.deepEqual(fn(t.extract, 'summary')(extracted), { rowCount: 100, rejected: 2, lines: 102 });
  assert.deepEqual(fn(t.extract_from_db, 'summary')({ rowCount: 5, file: 'f', bytes: 0, stagingTable: 's' }), { rowCount: 5 });
  assert.deepEqual(fn(t.transform, 'summary')(transformed), { cleanRows: 97, rejectedRows: 3 });
  assert.deepEqual(fn(t.load, 'summary')({ loadedRows: 97, rejectedRows: 3, replacedRows: 0 }), { loadedRows: 97, rejectedRows: 3 });
  const models = [
    { model: 'stg_orders', status: 'success', executionTimeSeconds: 0.1 },
    { model: 'daily_revenue', status: 'success', executionTimeSeconds: 0.2 },
  ];
  assert.deepEqual(fn(t.dbt_run, 'summary')({ models }), { stg_orders: 'success', daily_revenue: 'success' });

  assert.deepEqual(ordersDaily.result!(run({ ...done, xcom: { ...done.xcom, dbt_run: { models } }, states: { send_empty_alert: 'skipped' } })), {
    state: 'success',
    empty: false,
    rowCount: 100,
    loadedRows: 97,
    rejectedRows: 3,
    models,
  });
  // The empty day: no load, no models, and the alert's skip shows in the state.
  assert.deepEqual(ordersDaily.result!(run({ xcom: { extract: { ...extracted, rowCount: 0 } }, states: { send_empty_alert: 'success' } })), {
    state: 'success_with_skips',
    empty: true,
    rowCount: 0,
    loadedRows: 0,
    rejectedRows: 0,
    models: [],
  });
});

test("orders-etl's DAG file keeps the flow's definition; its tasks hand file references on; the result names the cache's outcome", () => {
  const dag = compileDag(ordersEtl);
  assert.deepEqual(
    [dag.workflowType, dag.definition.schedule, dag.definition.maxActiveRuns, dag.order],
    ['ordersPipeline', '0 7 * * *', null, ['extract_data', 'transform_data', 'load_data']],
  );
  assert.deepEqual(dag.definition.defaultArgs, { ...ordersEtlFlow.defaultArgs });
  const staged = { path: 'staging/x.parquet', rows: 10, bytes: 100, sha256: 'a' };
  const clean = { path: 'staging/c.parquet', rows: 8, bytes: 80, sha256: 'b' };
  const rejects = { path: 'processed/orders_2024-01-15.rejects.csv', rows: 1, bytes: 10, sha256: 'c' };
  const output = { path: 'processed/orders_2024-01-15.parquet', rows: 8, bytes: 90, sha256: 'd' };
  const flow = run({
    dagId: 'orders-etl',
    params: { cache_policy: 'inputs+file' },
    xcom: { extract_data: staged, transform_data: { clean, rejects, rowsIn: 10, kept: 8, dropped: 1, rejected: 1 }, load_data: output },
    cached: { extract_data: 'hit' },
  });
  const t = ordersEtl.tasks;
  assert.deepEqual(argsOf(t.transform_data)(flow), { input: staged, target: 'orders_2024-01-15' });
  assert.deepEqual(argsOf(t.load_data)(flow), { input: clean, target: 'orders_2024-01-15' });
  assert.deepEqual(fn(t.extract_data, 'summary')(staged), { rows: 10 });
  assert.deepEqual(fn(t.transform_data, 'summary')({ kept: 8, dropped: 1, rejected: 1 }), { kept: 8, dropped: 1, rejected: 1 });
  assert.deepEqual(fn(t.load_data, 'summary')(output), { rows: 8, file: output.path });
  assert.deepEqual(ordersEtl.result!(flow), {
    state: 'success',
    flow: 'orders-etl',
    startDate: ds,
    target: 'orders_2024-01-15',
    output,
    rejects,
    rowsIn: 10,
    kept: 8,
    dropped: 1,
    rejected: 1,
    cache: { extract_data: 'hit' },
  });
});

test("dbt_run runs dbt in the DAG's own project through its context, and tells a broken model from a failure worth a retry", async () => {
  const calls: Array<[string[], { project: string }]> = [];
  const outcome = (o: Partial<DbtOutcome>): DbtOutcome => ({ exitCode: 0, target: 'prod', nodes: [], failure: '', ...o });
  const contextWith = (result: DbtOutcome) =>
    ({
      logger: { info: () => undefined },
      dbt: async (args: string[], options: { project: string }) => {
        calls.push([args, options]);
        return result;
      },
    }) as unknown as TaskContext;
  const built = outcome({ nodes: [{ model: 'stg_orders', status: 'success', executionTimeSeconds: 0.1 }] });
  assert.deepEqual(await dailyTasks.dbtRun({ ds, select: 'tag:orders' }, contextWith(built)), { models: built.nodes });
  assert.deepEqual(calls, [[['run', '--select', 'tag:orders', '--vars', JSON.stringify({ ds })], { project: 'dbt' }]]);

  const broken = outcome({
    exitCode: 1,
    nodes: [{ model: 'daily_revenue', status: 'error', executionTimeSeconds: 0 }],
    failure: 'daily_revenue error: syntax',
  });
  await assert.rejects(dailyTasks.dbtRun({ ds, select: 'tag:orders' }, contextWith(broken)), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.deepEqual(
      [err.type, err.nonRetryable, err.message],
      ['DbtModelFailed', true, 'dbt run --select tag:orders --target prod exited 1: daily_revenue error: syntax'],
    );
    return true;
  });
  const lost = outcome({ exitCode: 2, failure: 'could not connect to server' });
  await assert.rejects(dailyTasks.dbtRun({ ds, select: 'tag:orders' }, contextWith(lost)), (err: unknown) => {
    assert.ok(!(err instanceof ApplicationFailure), 'a retry may mend it');
    assert.equal((err as Error).message, 'dbt run --select tag:orders --target prod exited 2: could not connect to server');
    return true;
  });
  await assert.rejects(
    dailyTasks.dbtRun({ ds, select: 'tag:orders; rm -rf /' }, contextWith(built)),
    /dbt selector "tag:orders; rm -rf \/" has characters dbt does not use/,
  );
  assert.equal(calls.length, 3, 'a bad selector runs no dbt');
});
