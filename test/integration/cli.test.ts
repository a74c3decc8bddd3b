/**
 * The user's paths from a terminal: `npm run seed`, `baton trigger --wait`, `baton schedules
 * sync`, and clear errors with exit code 2 for bad input, before anything is created.
 */
import assert from '../support/assert';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from '@jest/globals';
import { ScheduleNotFoundError } from '@temporalio/client';
import { addDays } from '../../src/logical-date';
import type { SeedSummary } from '../../scripts/sample-orders';
import { count, execFileAsync, repoRoot, integrationPlatform } from '../support';
import { baton, batonProcess, type CliOutcome } from '../support/cli';

// A task on the worker the backfill test kills starts again after 3 s without a heartbeat (30 s by default).
const platform = integrationPlatform({ workerEnv: () => ({ ...process.env, BATON_HEARTBEAT_TIMEOUT: '3s' }) });
const { config, pool } = platform;

/** `npm run seed`'s script, or `baton` (in this process; see test/support/cli.ts). */
async function cli(script: 'seed' | 'baton', args: string[]): Promise<CliOutcome> {
  if (script === 'baton') return baton(args);
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'seed.ts'), ...args], {
      cwd: repoRoot,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('seed a file, then baton trigger --wait loads exactly the expected rows', async () => {
  const ds = '2031-04-01';
  const seeded = await cli('seed', ['--ds', ds, '--rows', '2500', '--bad-rate', '0.02', '--seed', '9']);
  assert.equal(seeded.code, 0, seeded.stderr);
  const seed = JSON.parse(seeded.stdout) as SeedSummary;
  assert.equal(seed.file, path.join(config.dataDir, 'raw', `orders_${ds}.csv`));
  assert.equal(seed.badRows, 50);

  const run = await cli('baton', ['trigger', 'orders_daily_etl', '--ds', ds, '--wait', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { workflowId: string; url: string; result: { loadedRows: number; rejectedRows: number } };
  assert.equal(out.workflowId, `orders_daily_etl-${ds}`);
  assert.match(out.url, new RegExp(`^http://localhost:8233/namespaces/${config.temporal.namespace}/workflows/orders_daily_etl-${ds}/[0-9a-f-]+/history$`));
  assert.deepEqual([out.result.loadedRows, out.result.rejectedRows], [seed.expectedLoaded, 50]);
  assert.equal(await count(pool, 'SELECT count(*) AS n FROM warehouse.orders WHERE ds = $1', [ds]), seed.expectedLoaded);
});

test('baton schedules sync creates the schedule from the DAG definition, then changes nothing', async () => {
  for (const id of ['orders_daily_etl', 'orders-etl', 'approval_example', 'customers_example', 'fan_in_example', 'fiscal_calendar_example', 'mapped_example']) {
    await platform.client.schedule
      .getHandle(id)
      .delete()
      .catch((err) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }
  const outcomes = async () => (JSON.parse((await cli('baton', ['schedules', 'sync', '--json'])).stdout) as { outcomes: Record<string, string> }).outcomes;
  const dagIds = ['orders_daily_etl', 'orders-etl', 'approval_example', 'customers_example', 'fan_in_example', 'fiscal_calendar_example', 'mapped_example'];
  assert.deepEqual(await outcomes(), Object.fromEntries(dagIds.map((id) => [id, 'created'])));
  assert.deepEqual(await outcomes(), Object.fromEntries(dagIds.map((id) => [id, 'unchanged'])));
  // pausedOnCreation: the examples that need a connection or files start paused, the others run.
  const paused = async (id: string) => (await platform.client.schedule.getHandle(id).describe()).state.paused;
  assert.deepEqual(await Promise.all(dagIds.map(paused)), [false, false, true, true, true, false, true]);
  const schedule = await platform.client.schedule.getHandle('orders_daily_etl').describe();
  assert.equal(schedule.spec.timezone, 'UTC');
  // max_active_runs is kept by the DAG's slot keeper; the schedule itself only starts runs.
  assert.equal(schedule.policies.overlap, 'ALLOW_ALL');
  // Missed fires start after an outage; with catchup=False all but the latest stand down.
  assert.equal(schedule.policies.catchupWindow, 365 * 86_400_000);
  assert.equal(schedule.action.type, 'startWorkflow');
  assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.taskQueue, 'etl');
  assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'scheduledDagRun');
  assert.deepEqual(schedule.action.type === 'startWorkflow' && schedule.action.args, [
    {
      dagId: 'orders_daily_etl',
      workflowType: 'ordersDailyEtl',
      schedule: '0 6 * * *',
      timezone: 'UTC',
      timetable: 'interval',
      startDate: '2024-01-01',
      catchup: false,
    },
  ]);
  // The cron 0 6 * * * as the server stores it: 06:00 every day.
  assert.deepEqual(
    schedule.spec.calendars?.map((c) => [c.hour, c.minute]),
    [[[{ start: 6, end: 6, step: 1 }], [{ start: 0, end: 0, step: 1 }]]],
  );
});

test('bad input: exit code 2 and a message that names the problem', async () => {
  // Processes of their own: the exit code is the one a shell sees.
  const unknown = await batonProcess(['trigger', 'orders_daily', '--ds', '2024-01-15']);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /unknown DAG "orders_daily"; known: approval_example, customers_example, fan_in_example, fiscal_calendar_example, mapped_example, orders-etl, orders_daily_etl$/m,
  );
  const badDate = await batonProcess(['trigger', 'orders_daily_etl', '--ds', '2024-02-30']);
  assert.equal(badDate.code, 2);
  assert.match(badDate.stderr, /ds "2024-02-30" is not a real calendar date/);
  const traversal = await cli('seed', ['--ds', '../../etc', '--rows', '1']);
  assert.equal(traversal.code, 2);
  assert.match(traversal.stderr, /ds "..\/..\/etc" is not a date in the form YYYY-MM-DD/);
});

test('baton backfill survives a killed CLI and a killed worker, and runs each date exactly once', async () => {
  // Dates of their own on every test run: the dev server keeps earlier runs, which a backfill skips.
  const first0 = addDays('2040-01-01', (Math.floor(Date.now() / 1000) % 5000) * 5);
  const dates = [0, 1, 2, 3, 4].map((i) => addDays(first0, i));
  const seeds = new Map<string, SeedSummary>();
  for (const ds of dates) {
    const seeded = await cli('seed', ['--ds', ds, '--rows', '200', '--bad-rate', '0.05', '--seed', ds.slice(-2)]);
    seeds.set(ds, JSON.parse(seeded.stdout) as SeedSummary);
  }
  const args = ['backfill', 'orders_daily_etl', '--from', dates[0], '--to', dates[4], '--max-active', '2', '--json'];
  const first = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'baton.js'), ...args], { cwd: repoRoot, stdio: 'ignore' });
  // Let two dates finish, then kill the CLI and the worker mid-backfill.
  const completed = async () => {
    let n = 0;
    for await (const run of platform.client.workflow.list({
      query: `BatonDag = 'orders_daily_etl' AND WorkflowType = 'ordersDailyEtl' AND ExecutionStatus = 'Completed' AND BatonDs >= '${dates[0]}' AND BatonDs <= '${dates[4]}'`,
    }))
      n += run ? 1 : 0;
    return n;
  };
  const deadline = Date.now() + 120_000;
  while ((await completed()) < 2) {
    assert.ok(Date.now() < deadline, 'two dates did not finish in time');
    await new Promise((r) => setTimeout(r, 300));
  }
  first.kill('SIGKILL');
  platform.worker.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  await platform.startWorker();

  const again = await cli('baton', args);
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as { succeeded: number; failed: number; skipped: number; total: number; workflowId: string };
  assert.deepEqual([summary.total, summary.succeeded, summary.failed, summary.skipped], [5, 5, 0, 0]);
  assert.equal(summary.workflowId, `baton-backfill-orders_daily_etl-${dates[0]}-${dates[4]}`);
  for (const ds of dates) {
    const executions = [];
    for await (const run of platform.client.workflow.list({ query: `WorkflowId = 'orders_daily_etl-${ds}'` })) executions.push(run.runId);
    assert.equal(executions.length, 1, `${ds} ran ${executions.length} times`);
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM warehouse.orders WHERE ds = $1', [ds]), seeds.get(ds)!.expectedLoaded);
  }

  const plan = await cli('baton', ['backfill', 'orders_daily_etl', '--from', dates[0], '--to', dates[4], '--dry-run', '--json']);
  assert.deepEqual(
    (JSON.parse(plan.stdout) as Array<{ action: string; status: string }>).map((r) => `${r.action}:${r.status}`),
    Array(5).fill('skip:COMPLETED'),
  );
  const rerunAll = await cli('baton', ['backfill', 'orders_daily_etl', '--from', dates[0], '--to', dates[1], '--dry-run', '--rerun', 'all', '--json']);
  assert.deepEqual(
    (JSON.parse(rerunAll.stdout) as Array<{ action: string }>).map((r) => r.action),
    ['run', 'run'],
  );
});

test('baton pause, unpause, dags list and runs list', async () => {
  await cli('baton', ['schedules', 'sync']);
  assert.deepEqual(JSON.parse((await cli('baton', ['pause', 'orders_daily_etl', '--json'])).stdout), { dagId: 'orders_daily_etl', paused: true });
  assert.equal((await platform.client.schedule.getHandle('orders_daily_etl').describe()).state.paused, true);
  const listed = JSON.parse((await cli('baton', ['dags', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
  // Every DAG file of the folder, by path.
  assert.deepEqual(
    listed.map((d) => d.dagId),
    ['approval_example', 'customers_example', 'fan_in_example', 'fiscal_calendar_example', 'mapped_example', 'orders-etl', 'orders_daily_etl'],
  );
  const daily = listed.find((d) => d.dagId === 'orders_daily_etl')!;
  assert.equal(daily.schedule_state, 'paused');
  assert.equal((daily.nextLogicalDates as string[]).length, 3);
  assert.deepEqual(Object.keys(daily.lastRun as object).sort(), ['ds', 'status']);
  assert.deepEqual(JSON.parse((await cli('baton', ['unpause', 'orders_daily_etl', '--json'])).stdout), { dagId: 'orders_daily_etl', paused: false });
  assert.equal((await platform.client.schedule.getHandle('orders_daily_etl').describe()).state.paused, false);

  const runs = JSON.parse((await cli('baton', ['runs', 'list', 'orders_daily_etl', '--limit', '200', '--json'])).stdout) as Array<{
    workflowId: string;
    ds: string;
    status: string;
  }>;
  const run = runs.find((r) => r.workflowId === 'orders_daily_etl-2031-04-01');
  assert.deepEqual(run && { ds: run.ds, status: run.status }, { ds: '2031-04-01', status: 'COMPLETED' });
  const text = await cli('baton', ['runs', 'list', 'orders_daily_etl', '--limit', '1']);
  assert.match(
    text.stdout,
    /^\d{4}-\d{2}-\d{2} {2}\w+ +started \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} {2}(\d+\.\d+s|running) {2}orders_daily_etl-\d{4}-\d{2}-\d{2}\n$/,
  );
});

test("baton runs show prints a run's task table; the Web UI gets it as current details and a summary per activity", async () => {
  const ds = '2031-04-01'; // run by the first test of this file
  const shown = JSON.parse((await cli('baton', ['runs', 'show', 'orders_daily_etl', ds, '--json'])).stdout) as {
    status: string;
    tasks: Array<{ taskId: string; state: string; output?: Record<string, unknown> }>;
  };
  assert.equal(shown.status, 'COMPLETED');
  assert.deepEqual(
    shown.tasks.map((t) => `${t.taskId}:${t.state}`),
    [
      'choose_source:success',
      'wait_for_file:success',
      'extract:success',
      'wait_for_data:skipped',
      'extract_from_db:skipped',
      'check_data:success',
      'transform:success',
      'load:success',
      'validate:success',
      'dbt_run:success',
      'send_empty_alert:skipped',
    ],
  );
  // 50 bad rows, 7 of them duplicates that transform rejects: extract rejects 43; header + 2,500 lines.
  assert.deepEqual(shown.tasks.find((t) => t.taskId === 'extract')?.output, { rowCount: 2500, rejected: 43, lines: 2501 });
  const text = (await cli('baton', ['runs', 'show', 'orders_daily_etl', ds])).stdout;
  assert.match(text, /^ {2}load {15}success {9}\d{2}:\d{2}:\d{2} +\d+\.\ds {2}loadedRows=2450 rejectedRows=50$/m);

  const handle = platform.client.workflow.getHandle(`orders_daily_etl-${ds}`);
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  assert.match(metadata.currentDetails ?? '', /^\| task \| state \| duration \| output \|$/m);
  assert.match(metadata.currentDetails ?? '', /^\| validate \| success \| \d+\.\ds \| checksPassed=5 \|$/m);

  const history = await handle.fetchHistory();
  const summaries = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => e.userMetadata?.summary?.data && Buffer.from(e.userMetadata.summary.data).toString('utf8'))
    // A run that waits for its slot longer than a refresh asks again, with a line of its own: how long depends on the other runs.
    .filter((summary) => !summary?.endsWith('(still waiting)"'));
  assert.deepEqual(summaries, [
    '"max_active_runs=1: queue for a run slot"',
    `"sensor: wait for raw/orders_${ds}.csv"`,
    `"extract: read raw/orders_${ds}.csv under the orders contract into staging"`,
    '"transform: one row per order_id of the records staged"',
    `"load: audit and publish partition ds=${ds} of warehouse.orders"`,
    `"validate: 5 data checks on ds=${ds}"`,
    `"dbt_run: dbt run --select tag:orders on the worker's target"`,
  ]);

  const missing = await cli('baton', ['runs', 'show', 'orders_daily_etl', '1999-01-01']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /orders_daily_etl has no run for 1999-01-01/);
});
