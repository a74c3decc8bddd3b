/**
 * The DAG engine (workflows/engine.ts) on the time-skipping server, with fake operator
 * activities: every ready task starts at once (in one workflow task), a failure is its branch's
 * alone, teardowns run whatever happened, Airflow's trigger rules, retries with exponential
 * backoff and callbacks, branches, short circuits, params and templates.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { CommandOperatorInput } from '../../src/operators/command/activity';
import type { UserTaskInput } from '../../src/operators/task/activity';
import type { CacheLookupInput, CacheLookupResult, CacheStoreInput, FileRef, RunSettings } from '../../src/contracts';
import type { DagFileRunResult } from '../../workflows/engine';
import { createTriggerDagOperator, type TriggerDagOperatorInput } from '../../src/operators/trigger-dag/activity';
import type { DagDefinition } from '../../src/dags';
import { evaluateTriggerRule } from '../../workflows/task-table';
import { timeSkippingWorker, workflowFailure } from '../support';

const taskQueue = 'engine-tests';
const commands: Array<CommandOperatorInput & { at: number }> = [];
const recorded: UserTaskInput[] = [];
const sqlChecks: Array<{ connId: string; text: string; params: string[] }> = [];
const dataCalls: Array<[string, Record<string, unknown>]> = [];
const cacheCalls: Array<[string, unknown]> = [];
const cacheEntries = new Map<string, FileRef>();

/** engine_fan_in as the catalog sees it, on this test's queue (the probe is not loaded here: it pulls in the engine). */
const FAN_IN = {
  dagId: 'engine_fan_in',
  workflowType: 'engine_fan_in',
  taskQueue,
  schedule: '@daily',
  timezone: 'UTC',
  timetable: 'interval',
  tags: [],
  description: '',
  defaultArgs: { owner: 'airflow' },
} as unknown as DagDefinition;

const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./engine-probe'),
  activities: {
    runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
    operatorCommand: async (input: CommandOperatorInput) => {
      commands.push({ ...input, at: Date.now() });
      const [program, arg] = input.argv;
      if (program === 'fail' || arg === 'fail') throw ApplicationFailure.retryable(`${program} exited with 1`, 'CommandFailed');
      if (arg === 'slow') await new Promise((r) => setTimeout(r, 3_000));
      if (program === 'flaky' && input.attempt < 4) throw ApplicationFailure.retryable(`flaky try ${input.attempt} broke`, 'CommandFailed');
      return { exitCode: 0, tail: input.argv.join(' ') };
    },
    checkSql: async (input: { connId: string; text: string; params: string[] }) => {
      sqlChecks.push(input);
      return input.params[1].startsWith('eu') ? { found: true } : { found: false, reason: 'source: the query returned "0"' };
    },
    operatorLoadCsv: async (input: Record<string, unknown>) => {
      dataCalls.push(['loadCsv', input]);
      return { table: input.table, rows: 7, rejected: 1, records: 8, duplicates: 0, replaced: 0, lines: 9, bytes: 40 };
    },
    operatorDuckdb: async (input: Record<string, unknown>) => {
      dataCalls.push(['duckdb', input]);
      return { path: input.output, rows: 8, bytes: 300 };
    },
    operatorDbt: async (input: Record<string, unknown>) => {
      dataCalls.push(['dbt', input]);
      return { command: 'build', nodes: { m: 'success', not_null_m_id: 'pass' }, statuses: { success: 1, pass: 1 } };
    },
    'engine_retries.record': async (input: UserTaskInput) => void recorded.push(input),
    // The real activity, on the test server: the DAGs it may start are those of this worker's queue.
    // Its client is a plain one: waiting on the time-skipping client would let time leap past the run's timeout.
    operatorTriggerDag: (input: TriggerDagOperatorInput) =>
      createTriggerDagOperator(new Client({ connection: server.env.connection, namespace: server.env.namespace }), new Map([['engine_fan_in', FAN_IN]]), {
        webUiUrl: 'http://localhost:8233',
        temporal: { namespace: 'default' } as never,
      })(input),
    // The task cache as baton.task_cache keeps it: an entry per key until it expires.
    cacheLookup: async (input: CacheLookupInput): Promise<CacheLookupResult> => {
      cacheCalls.push(['lookup', input]);
      const key = JSON.stringify([input.task, input.policy, input.inputs, input.inputFile]);
      if (input.refresh) return { key, status: 'refresh' };
      const entry = cacheEntries.get(key);
      return entry ? { key, status: 'hit', result: entry, storedAt: 'then', expiresAt: 'later' } : { key, status: 'miss' };
    },
    cacheStore: async (input: CacheStoreInput) => {
      cacheCalls.push(['store', input]);
      cacheEntries.set(input.key, input.result);
      return { expiresAt: 'later' };
    },
    'engine_cached.produce': async (input: UserTaskInput) => {
      cacheCalls.push(['produce', input]);
      return { path: 'staging/x.parquet', bytes: 10, rows: 5 };
    },
    'engine_cached.echo': async (input: UserTaskInput) => input.args,
    'engine_cached_bad.echo': async (input: UserTaskInput) => input.args,
    'engine_choices.record': async (input: UserTaskInput) => {
      recorded.push(input);
      return { recorded: true };
    },
  },
});

let n = 0;
async function start(workflowType: string, ds: string, conf: Record<string, unknown> = {}) {
  const workflowId = `${workflowType}-${ds}-${++n}`;
  const handle = await server.client.workflow.start(workflowType, { taskQueue, workflowId, args: [{ ds, conf }] });
  return handle;
}
const states = (result: DagFileRunResult) => Object.fromEntries(result.tasks.map((t) => [t.taskId, t.state]));
const stateOf = states;
const argvOf = (ds: string) => commands.filter((c) => c.ds === ds).map((c) => c.argv.join(' '));
/** The commands of a run, those started together (the first `together`) in a fixed order. */
const argvTogether = (ds: string, together: number) => {
  const all = argvOf(ds);
  return [...all.slice(0, together).sort(), ...all.slice(together)];
};

test('every trigger rule decides as Airflow does', () => {
  const cases: Array<[Parameters<typeof evaluateTriggerRule>[0], string[], string]> = [
    ['all_success', ['success', 'success'], 'run'],
    ['all_success', ['success', 'running'], 'wait'],
    ['all_success', ['success', 'skipped'], 'skipped'],
    ['all_success', ['running', 'skipped'], 'wait'],
    ['all_success', ['failed', 'skipped'], 'upstream_failed'],
    ['all_success', ['running', 'failed'], 'upstream_failed'],
    ['all_failed', ['failed', 'upstream_failed'], 'run'],
    ['all_failed', ['failed', 'running'], 'wait'],
    ['all_failed', ['failed', 'success'], 'skipped'],
    ['all_done', ['failed', 'skipped', 'success'], 'run'],
    ['all_done', ['failed', 'running'], 'wait'],
    ['one_success', ['running', 'success'], 'run'],
    ['one_success', ['failed', 'skipped'], 'upstream_failed'],
    ['one_success', ['skipped', 'skipped'], 'skipped'],
    ['one_failed', ['running', 'failed'], 'run'],
    ['one_failed', ['success', 'skipped'], 'skipped'],
    ['one_failed', ['success', 'running'], 'wait'],
    ['none_failed', ['success', 'skipped'], 'run'],
    ['none_failed', ['running', 'upstream_failed'], 'upstream_failed'],
    ['none_failed_min_one_success', ['success', 'skipped'], 'run'],
    ['none_failed_min_one_success', ['skipped', 'skipped'], 'skipped'],
    ['none_skipped', ['success', 'failed'], 'run'],
    ['none_skipped', ['success', 'skipped'], 'skipped'],
    ['always', ['running', 'scheduled'], 'run'],
    // Airflow 3's: one_done counts success and failed, not upstream_failed or skipped.
    ['one_done', ['running', 'failed'], 'run'],
    ['one_done', ['success', 'running'], 'run'],
    ['one_done', ['upstream_failed', 'running'], 'wait'],
    ['one_done', ['upstream_failed', 'skipped'], 'skipped'],
    ['all_skipped', ['skipped', 'skipped'], 'run'],
    ['all_skipped', ['skipped', 'running'], 'wait'],
    ['all_skipped', ['skipped', 'upstream_failed'], 'skipped'],
    ['all_skipped', ['running', 'success'], 'skipped'],
    ['all_done_min_one_success', ['success', 'failed'], 'run'],
    ['all_done_min_one_success', ['success', 'running'], 'wait'],
    ['all_done_min_one_success', ['failed', 'upstream_failed'], 'upstream_failed'],
    ['all_done_min_one_success', ['running', 'skipped'], 'skipped'],
  ];
  for (const [rule, upstream, expected] of cases) {
    assert.equal(evaluateTriggerRule(rule, upstream as never), expected, `${rule} with ${upstream.join(', ')}`);
  }
  // A teardown's: once everything upstream is done, if a setup among its upstream succeeded.
  const teardown: Array<[string[], string[], string]> = [
    [['success', 'failed'], ['success'], 'run'],
    [['failed', 'upstream_failed'], ['failed'], 'upstream_failed'],
    [['skipped', 'skipped'], ['skipped'], 'skipped'],
    [['success', 'running'], ['success'], 'wait'],
    [['failed', 'success'], [], 'run'],
  ];
  for (const [upstream, setups, expected] of teardown) {
    assert.equal(
      evaluateTriggerRule('all_done_setup_success', upstream as never, setups as never),
      expected,
      `${upstream.join(', ')} with setups ${setups.join(', ')}`,
    );
  }
});

test('a setup pairs with its teardown: the work in its scope runs after it, and the teardown runs when it succeeded, whatever the work did', async () => {
  const failedWork = await start('engine_setup', '2024-03-20', { work: 'fail' });
  assert.equal((await workflowFailure(failedWork.result())).message, 'task work failed: work exited with 1');
  const table = async (handle: typeof failedWork) =>
    Object.fromEntries((await handle.query<Array<{ taskId: string; state: string }>>('tasks')).map((t) => [t.taskId, t.state]));
  assert.deepEqual(await table(failedWork), { create_cluster: 'success', work: 'failed', report: 'success', delete_cluster: 'success' });
  assert.deepEqual(argvOf('2024-03-20'), ['create ok', 'work fail', 'report', 'delete']);
});

test('a failed setup fails every task in its scope, all_done ones too, and its teardown does not run; a skipped one skips them', async () => {
  const failed = await start('engine_setup', '2024-03-21', { setup: 'fail' });
  assert.equal((await workflowFailure(failed.result())).message, 'task create_cluster failed: create exited with 1');
  const states = Object.fromEntries((await failed.query<Array<{ taskId: string; state: string }>>('tasks')).map((t) => [t.taskId, t.state]));
  // report's all_done would run after a failed work: the setup's scope fails it first.
  assert.deepEqual(states, { create_cluster: 'failed', work: 'upstream_failed', report: 'upstream_failed', delete_cluster: 'upstream_failed' });
  assert.deepEqual(argvOf('2024-03-21'), ['create fail']);

  const skipped = (await (await start('engine_setup', '2024-03-22', { setup: 'skip' })).result()) as DagFileRunResult;
  assert.deepEqual(stateOf(skipped), { create_cluster: 'skipped', work: 'skipped', report: 'skipped', delete_cluster: 'skipped' });
  assert.deepEqual(argvOf('2024-03-22'), []);
});

test('independent tasks start in the same workflow task; the join reads both outputs; the teardown runs last', async () => {
  const ds = '2024-03-01';
  const handle = await start('engine_fan_in', ds, { b_arg: 'x' });
  const result = (await handle.result()) as DagFileRunResult;
  assert.equal(result.state, 'success_with_skips');
  assert.deepEqual(states(result), { a: 'success', b: 'success', join: 'success', on_failed: 'skipped', cleanup: 'success' });
  assert.deepEqual(argvTogether(ds, 2), ['a 2024-03-01', 'b x', 'join a 2024-03-01+b x', 'cleanup']);

  const { events } = await handle.fetchHistory();
  const scheduled = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'operatorCommand');
  const batch = (i: number) => String(scheduled[i].activityTaskScheduledEventAttributes!.workflowTaskCompletedEventId);
  assert.equal(scheduled.length, 4);
  assert.equal(batch(0), batch(1), 'a and b are scheduled by one workflow task');
  assert.notEqual(batch(2), batch(0), 'join waits for both');
});

test('a failed branch fails the run, naming the task; what does not depend on it runs; the teardown and one_failed run', async () => {
  const ds = '2024-03-02';
  const handle = await start('engine_fan_in', ds, { b_arg: 'fail' });
  const failure = await workflowFailure(handle.result());
  assert.equal(failure.type, 'TaskFailed');
  assert.equal(failure.message, 'task b failed: b exited with 1');
  const table = await handle.query<Array<{ taskId: string; state: string }>>('tasks');
  assert.deepEqual(Object.fromEntries(table.map((t) => [t.taskId, t.state])), {
    a: 'success',
    b: 'failed',
    join: 'upstream_failed',
    on_failed: 'success',
    cleanup: 'success',
  });
  assert.deepEqual(argvTogether(ds, 2), ['a 2024-03-02', 'b fail', 'cleanup']);
});

test("triggerDag starts another DAG's run for the date with conf, joins the one in flight instead of doubling it, and fails when it fails", async () => {
  // engine_fan_in's run for the date is already in flight (its b sleeps 3 s): triggerDag joins it.
  const ds = '2024-03-30';
  const inFlight = await server.client.workflow.start('engine_fan_in', {
    taskQueue,
    workflowId: `engine_fan_in-${ds}`,
    args: [{ ds, conf: { b_arg: 'slow' } }],
  });
  const result = (await (await start('engine_trigger', ds, { b_arg: 'ignored while one is in flight' })).result()) as DagFileRunResult;
  const task = result.tasks.find((t) => t.taskId === 'run_fan_in')!;
  assert.equal(task.state, 'success');
  assert.deepEqual(task.output, { dagId: 'engine_fan_in', ds, workflowId: `engine_fan_in-${ds}`, runId: inFlight.firstExecutionRunId, state: 'success' });
  assert.deepEqual(
    argvOf(ds).filter((a) => a.startsWith('b ')),
    ['b slow'],
    'one run of engine_fan_in',
  );

  // None in flight: a new run with the conf given, whose failure fails the trigger for good.
  const failing = await start('engine_trigger', '2024-03-31', { b_arg: 'fail' });
  const failure = await workflowFailure(failing.result());
  assert.equal(failure.message, "task run_fan_in failed: run_fan_in: engine_fan_in's run engine_fan_in-2024-03-31 failed: task b failed: b exited with 1");
  assert.deepEqual(
    argvOf('2024-03-31').filter((a) => a.startsWith('b ')),
    ['b fail'],
  );
});

test('retries back off exponentially up to the maximum delay, with on_retry, on_success and on_failure', async () => {
  const ds = '2024-03-03';
  recorded.length = 0;
  const handle = await start('engine_retries', ds);
  const failure = await workflowFailure(handle.result());
  assert.equal(failure.message, 'task doomed failed: fail exited with 1');
  const tries = commands.filter((c) => c.ds === ds).map((c) => `${c.argv[0]}#${c.attempt}`);
  assert.deepEqual(tries, ['flaky#1', 'flaky#2', 'flaky#3', 'flaky#4', 'fail#1', 'fail#2']);
  // retry_delay 1m doubled each try up to max_retry_delay 3m, then doomed's own 1m: durable timers in the history.
  const { events } = await handle.fetchHistory();
  const timers = (events ?? []).flatMap((e) => (e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds)] : []));
  assert.deepEqual(timers, [60, 120, 180, 60]);
  assert.deepEqual(
    recorded.map((r) => [r.taskId, (r.args as { event: string }).event]),
    [
      ['flaky', 'retry'],
      ['flaky', 'retry'],
      ['flaky', 'retry'],
      ['flaky', 'success'],
      ['doomed', 'failure'],
    ],
  );
  assert.match((recorded[0].args as { message: string }).message, /^try 1 of 4 failed, retrying in 60s: flaky try 1 broke$/);
});

test('a branch follows the side params choose; a short circuit skips everything after it; params default and templates render', async () => {
  recorded.length = 0;
  const left = (await (await start('engine_choices', '2024-03-04')).result()) as DagFileRunResult;
  assert.deepEqual(states(left), {
    pick: 'success',
    left: 'success',
    right: 'skipped',
    joined: 'success',
    gate: 'success',
    after_gate: 'success',
    last: 'success',
  });
  assert.equal(left.picked, 'left');
  assert.deepEqual(argvOf('2024-03-04'), ['left 10', 'after 2024-03-05']);
  assert.deepEqual(
    recorded.map((r) => r.args),
    [{ ds: '20240304' }],
  );

  const right = (await (await start('engine_choices', '2024-03-05', { side: 'right', go: false })).result()) as DagFileRunResult;
  assert.deepEqual(states(right), {
    pick: 'success',
    left: 'skipped',
    right: 'success',
    joined: 'success',
    gate: 'success',
    after_gate: 'skipped',
    last: 'skipped',
  });
  assert.equal(right.picked, 'right');
  assert.deepEqual(argvOf('2024-03-05'), ['right']);
});

test('bad conf for a param fails the run before any task, naming the field', async () => {
  const handle = await start('engine_choices', '2024-03-06', { limit: 0, side: 'up' });
  const failure = await workflowFailure(handle.result());
  assert.equal(failure.type, 'InvalidParams');
  assert.match(failure.message, /^engine_choices: bad params, no task was run: params\.side: .*\(conf gave "up"\); params\.limit: .*\(conf gave 0\)$/);
  assert.deepEqual(argvOf('2024-03-06'), []);
});

test('a workflow type no DAG file has fails at once, naming it', async () => {
  const failure = await workflowFailure(start('no_such_dag', '2024-03-07').then((h) => h.result()));
  assert.equal(failure.type, 'UnknownDag');
  assert.match(
    failure.message,
    /^no DAG file under workflows\/dags\/ has workflow type no_such_dag \(DAG files here: engine_fan_in, engine_setup, engine_trigger, engine_retries, engine_choices, engine_bad_template, engine_data, engine_cached, engine_cached_bad, engine_skip_throws\)$/,
  );
});

test('a template that reads what is not there fails its task for good, naming it, instead of stalling the run', async () => {
  const handle = await start('engine_bad_template', '2024-03-08');
  const failure = await workflowFailure(handle.result());
  assert.equal(failure.message, 'task b failed: {{ xcom.a.tail.missing }}: xcom.a.tail has no missing');
  assert.deepEqual(argvOf('2024-03-08'), ['a']);
});

test('a cancelled run ends cancelled, its tasks not retried and no other task started', async () => {
  const ds = '2024-03-09';
  const handle = await start('engine_fan_in', ds, { b_arg: 'slow' });
  for (let i = 0; i < 100 && argvOf(ds).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  await handle.cancel();
  await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
  assert.deepEqual(argvTogether(ds, 2), ['a 2024-03-09', 'b slow']);
});

test('the data operators get their settings rendered: the sensor its bound parameters, the load its file, DuckDB and dbt theirs', async () => {
  const result = (await (await start('engine_data', '2024-03-06')).result()) as DagFileRunResult;
  assert.deepEqual(states(result), { rows_ready: 'success', load: 'success', to_parquet: 'success', build: 'success' });
  assert.deepEqual(sqlChecks[0], { connId: 'source', text: 'SELECT count(*) FROM t WHERE ds = $1 AND region = $2', params: ['2024-03-06', 'eu'] });
  const calls = Object.fromEntries(dataCalls.map(([op, input]) => [op, input]));
  assert.deepEqual([calls.loadCsv.file, calls.loadCsv.table, calls.loadCsv.mode], ['raw/eu/t_2024-03-06.csv', 'examples.t', 'partition']);
  assert.deepEqual([calls.duckdb.sql, calls.duckdb.output], ["SELECT * FROM 'raw/eu/t_2024-03-06.csv'", 'p/t_20240306.parquet']);
  assert.deepEqual([calls.dbt.command, calls.dbt.select, calls.dbt.vars, calls.dbt.target], ['build', 'tag:eu', { rows: '7' }, 'dev']);

  // A region whose rows never come: the sensor times out softly, and what follows is skipped.
  dataCalls.length = 0;
  const dry = (await (await start('engine_data', '2024-03-07', { region: 'us' })).result()) as DagFileRunResult;
  assert.equal(dry.state, 'success_with_skips');
  assert.deepEqual(states(dry), { rows_ready: 'skipped', load: 'skipped', to_parquet: 'skipped', build: 'skipped' });
  assert.equal(sqlChecks.filter((c) => c.params[0] === '2024-03-07').length, 4, 'checks at 0, 1, 2 and 3 seconds');
  assert.deepEqual(dataCalls, []);

  // A conf value that would change DuckDB's SQL fails that task, naming it; the load ran.
  const sly = await start('engine_data', '2024-03-08', { region: "eu' UNION SELECT 1 --" });
  const failure = await workflowFailure(sly.result());
  assert.match(
    failure.message,
    /task to_parquet failed: \{\{ params\.region \}\} is "eu' UNION SELECT 1 --": only letters, digits, spaces and _ \. : \/ \+ - go into SQL text/,
  );
});

test('a cached task is served from the cache on the same args; args from XCom keep their types; skipIf skips; doc is the Web UI line; the result says its state', async () => {
  const ds = '2024-03-09';
  const first = await start('engine_cached', ds, { skip: true });
  const result = (await first.result()) as DagFileRunResult;
  // maybe was skipped, and the DAG's result calls the run a plain success all the same.
  assert.deepEqual([result.state, result.cache, result.doubled], ['success', 'miss', { rows: 10 }]);
  assert.deepEqual(states(result), { produce: 'success', double: 'success', maybe: 'skipped' });
  assert.deepEqual(result.tasks.find((t) => t.taskId === 'produce')?.output, { rows: 5, cache: 'miss' });
  assert.deepEqual(
    cacheCalls.map(([what]) => what),
    ['lookup', 'produce', 'store'],
  );
  assert.deepEqual((cacheCalls[0][1] as CacheLookupInput).inputs, { day: ds });
  assert.equal((cacheCalls[0][1] as CacheLookupInput).inputFile, `raw/x_${ds}.csv`);
  assert.equal((cacheCalls[0][1] as CacheLookupInput).policy, 'inputs+file');
  const { events } = await first.fetchHistory();
  const summaries = (events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name?.startsWith('engine_cached.'))
    .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString('utf8')) as string);
  assert.deepEqual(summaries, ['produce: task', `double: double the rows of ${ds}`]);

  cacheCalls.length = 0;
  const again = (await (await start('engine_cached', ds)).result()) as DagFileRunResult;
  assert.deepEqual([again.cache, again.doubled, states(again).maybe], ['hit', { rows: 10 }, 'success']);
  assert.deepEqual(
    cacheCalls.map(([what]) => what),
    ['lookup'],
    'a hit runs nothing',
  );

  cacheCalls.length = 0;
  const refreshed = (await (await start('engine_cached', ds, { refresh_cache: true })).result()) as DagFileRunResult;
  assert.equal(refreshed.cache, 'refresh');
  assert.deepEqual(
    cacheCalls.map(([what]) => what),
    ['lookup', 'produce', 'store'],
  );
});

test('a skipIf that throws fails its task for good, naming the error, and the run ends', async () => {
  const err = await workflowFailure((await start('engine_skip_throws', '2024-03-11')).result());
  assert.equal(err.message, 'task broken failed: skipIf read what is not there');
});

test('a cached task whose output is no file reference fails for good, naming what it returned', async () => {
  const err = await workflowFailure((await start('engine_cached_bad', '2024-03-10')).result());
  assert.equal(err.message, 'task produce failed: produce: a cached task returns a file reference { path, bytes }, got {"rows":1}');
});
