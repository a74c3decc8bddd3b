/**
 * Operating orders_daily_etl's runs from a terminal, on the real worker, dev server, Postgres and
 * dbt: a fault in load for three dates, the fix, then `baton runs clear --task load --downstream`
 * over the three (after a dry run that changes nothing): the new executions run load, validate
 * and dbt_run only, one at a time (max_active_runs=1), and every partition is exact.
 */
import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import { temporal } from '@temporalio/proto';
import type { DagRunInput } from '../../src/contracts';
import { triggerRun, waitForRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { main } from '../../src/cli';
import { expectedPartition, integrationPlatform, partition, workflowFailure } from '../support';

const platform = integrationPlatform();
const { config, pool } = platform;
const EventType = temporal.api.enums.v1.EventType;

// Who the operations say asked.
process.env.BATON_USER = 'dana';

/** `baton <args>`, run in this process (as scripts/baton.js runs it), its lines captured. */
async function baton(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  process.exitCode = undefined;
  const code = await main(['node', 'baton', ...args], { out: (line) => out.push(line), err: (line) => err.push(line) });
  process.exitCode = undefined;
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

/** A run's activities as its history has them: type, when scheduled, when it closed. */
async function activitiesOf(workflowId: string, runId: string) {
  const events = (await platform.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const scheduled = new Map<number, { type: string; scheduledAt: number; closedAt?: number }>();
  for (const e of events) {
    const at = Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      scheduled.set(Number(e.eventId), { type: e.activityTaskScheduledEventAttributes!.activityType!.name!, scheduledAt: at });
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (closed) scheduled.get(Number(closed.scheduledEventId))!.closedAt = at;
  }
  return { activities: [...scheduled.values()], input: events[0].workflowExecutionStartedEventAttributes!.input!.payloads![0] };
}

test('a fault in load for three dates, fixed, then clear --task load --downstream: only load, validate and dbt_run run again, one run at a time, and each partition is exact', async () => {
  const days = ['2031-06-01', '2031-06-02', '2031-06-03'];
  const seeds = await Promise.all(
    days.map((ds, i) => generateOrders({ ds, rows: 400, badRate: 0.02, seed: 60_100 + i, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) })),
  );
  // The fault: the warehouse's publish function is missing (a migration not applied), for every try of load.
  await pool.query('ALTER FUNCTION baton.publish_orders_day(date, bigint, bigint) RENAME TO publish_orders_day_moved');
  const first: string[] = [];
  try {
    for (const ds of days) {
      const run = await triggerRun(platform.client, config, ordersDailyEtlDag, ds);
      first.push(run.runId);
      assert.match(
        (await workflowFailure(waitForRun(platform.client, run))).message,
        /task load failed: .*function baton\.publish_orders_day\(.*\) does not exist/,
      );
    }
  } finally {
    await pool.query('ALTER FUNCTION baton.publish_orders_day_moved(date, bigint, bigint) RENAME TO publish_orders_day');
  }

  const range = ['runs', 'clear', 'orders_daily_etl', '--from', days[0], '--to', days[2], '--task', 'load', '--downstream'];
  const dry = await baton([...range, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  const lines = dry.stdout.trim().split('\n');
  assert.equal(lines.length, 4, dry.stdout);
  for (const [i, ds] of days.entries()) {
    assert.match(lines[i], new RegExp(`^orders_daily_etl-${ds} \\(failed\\): runs again load, validate, dbt_run; keeps `));
    assert.equal(
      lines[i].split('; keeps ')[1],
      'choose_source success, wait_for_file success, extract success, wait_for_data skipped, extract_from_db skipped, check_data success, transform success, send_empty_alert skipped',
    );
  }
  assert.equal(lines[3], 'dry run: 3 of 3 runs would be cleared; nothing was changed');
  for (const [i, ds] of days.entries()) assert.equal((await platform.client.workflow.getHandle(`orders_daily_etl-${ds}`).describe()).runId, first[i]);

  const cleared = await baton([...range, '--reason', 'publish function restored']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.match(cleared.stdout, /^3 of 3 runs cleared$/m);
  const runs = [...cleared.stdout.matchAll(/^cleared (orders_daily_etl-\S+): run (\S+) /gm)].map((m) => ({ workflowId: m[1], runId: m[2] }));
  assert.deepEqual(
    runs.map((r) => r.workflowId),
    days.map((ds) => `orders_daily_etl-${ds}`),
  );

  const spans: Array<{ start: number; end: number }> = [];
  for (const [i, run] of runs.entries()) {
    const result = (await platform.client.workflow.getHandle(run.workflowId, run.runId).result()) as { state: string; loadedRows: number };
    assert.equal(result.state, 'success');
    assert.equal(result.loadedRows, seeds[i].expectedLoaded);
    const { activities, input } = await activitiesOf(run.workflowId, run.runId);
    const data = activities.filter((a) => a.type.startsWith('orders_daily_etl.'));
    assert.deepEqual(
      data.map((a) => a.type),
      ['orders_daily_etl.load', 'orders_daily_etl.validate', 'orders_daily_etl.dbtRun'],
    );
    spans.push({ start: data[0].scheduledAt, end: data[2].closedAt! });
    const started = JSON.parse(Buffer.from(input.data!).toString()) as DagRunInput;
    assert.deepEqual(started.clear, {
      action: 'clear',
      runId: first[i],
      tasks: ['load', 'validate', 'dbt_run'],
      by: 'dana',
      reason: 'publish function restored',
    });
    assert.deepEqual(await partition(pool, days[i]), expectedPartition(seeds[i]));
  }
  // max_active_runs=1: each run's tasks start after the one before it has finished its own.
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i].start >= spans[i - 1].end, `runs overlapped: ${JSON.stringify(spans)}`);
});

/** Waits until the run's task is running (an approval: waiting for its answer). */
async function waitingAt(workflowId: string, taskId: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const tasks = await platform.client.workflow
      .getHandle(workflowId)
      .query<Array<{ taskId: string; state: string }>>('tasks')
      .catch(() => []);
    if (tasks.find((t) => t.taskId === taskId)?.state === 'running') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${workflowId}: ${taskId} never ran`);
}

test('approval_example: an answer that does not fit is refused; the worker restarts while sign_off waits; the approval goes on, a second answer is refused; a cancel records who and why; the grid shows both runs', async () => {
  const day = '2031-07-01';
  const workflowId = `approval_example-${day}`;
  const triggered = await baton(['trigger', 'approval_example', '--ds', day]);
  assert.equal(triggered.code, 0, triggered.stderr);
  await waitingAt(workflowId, 'sign_off');

  const bad = await baton(['runs', 'approve', 'approval_example', '--ds', day, '--task', 'sign_off', '--value', '{"flagShare": 2}']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /sign_off: the value does not fit its schema: flagShare: Too big: expected number to be <=1/);

  // The worker goes away while the run waits, and another takes over: the wait is in the run's history.
  await platform.worker.stop();
  await platform.startWorker();
  const approved = await baton([
    'runs',
    'approve',
    'approval_example',
    '--ds',
    day,
    '--task',
    'sign_off',
    '--value',
    '{"flagShare": 0.02}',
    '--reason',
    'totals match',
  ]);
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(approved.stdout.trim(), 'sign_off approved by dana');
  const result = (await platform.client.workflow.getHandle(workflowId).result()) as {
    state: string;
    tasks: Array<{ taskId: string; state: string; output?: Record<string, unknown> }>;
  };
  assert.equal(result.state, 'success');
  assert.equal(result.tasks.find((t) => t.taskId === 'publish')!.output?.tail, `published ${day}, flagging 0.02, signed off by dana`);
  const again = await baton(['runs', 'reject', 'approval_example', '--ds', day, '--task', 'sign_off']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not running \(it completed\): no approval waits in it/);

  // A second run, cancelled while it waits: the request in its history names who asked and why.
  const other = '2031-07-02';
  await baton(['trigger', 'approval_example', '--ds', other]);
  await waitingAt(`approval_example-${other}`, 'sign_off');
  const cancelled = await baton(['runs', 'cancel', 'approval_example', '--ds', other, '--reason', 'report withdrawn']);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.match(cancelled.stdout, /^approval_example-2031-07-02: cancel requested \(run \S+\)$/m);
  const handle = platform.client.workflow.getHandle(`approval_example-${other}`);
  await assert.rejects(handle.result(), /cancel/i);
  const events = (await handle.fetchHistory()).events ?? [];
  const request = events.find(
    (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
  )!.workflowExecutionCancelRequestedEventAttributes!;
  assert.deepEqual([request.identity, request.cause], ['baton:dana', 'dana: report withdrawn']);

  const grid = await baton(['runs', 'grid', 'approval_example', '--last', '2']);
  assert.equal(grid.code, 0, grid.stderr);
  assert.equal(
    grid.stdout,
    [
      'approval_example: 2 runs, 2031-07-01 to 2031-07-02, oldest first (2031)',
      '              07-01  07-02',
      'run           S      C',
      'build_report  S      S',
      'sign_off      S      F',
      'publish       S      U',
      '',
      'S success  F failed  U upstream_failed  K skipped  R running  Q queued  . scheduled  - not in the run  ? not read',
      '',
      '2031-07-02 sign_off: Workflow cancelled',
      '',
    ].join('\n'),
  );
});
