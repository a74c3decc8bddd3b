/**
 * Airflow's scheduling model on Temporal Schedules, against the real dev server and worker:
 * logical dates in both timetables (across a DST change), catchup, max_active_runs,
 * depends_on_past, and schedule sync. Test DAGs are no-op DAGs with ids unique to this run.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ScheduleNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { planBackfill, startBackfill } from '../../src/backfill';
import type { BackfillProgress, TaskRecord } from '../../src/contracts';
import { dagRunWorkflowId, type DagDefinition } from '../../src/dags';
import { addDays, formatTs, parseTs, utcDate } from '../../src/logical-date';
import { syncSchedule, syncSchedules } from '../../src/schedules';
import { intervalForFireTime } from '../../src/timetable';
import { noopDagDefinition, resultOf, integrationPlatform, temporalCli } from '../support';
import type { NoopDagResult } from '../../workflows/noop-dag';

const platform = integrationPlatform({ migrate: false });
const suffix = Date.now().toString(36);
const id = (name: string) => `${name}_${suffix}`;
const schedules: string[] = [];
platform.atEnd(async () => {
  for (const scheduleId of schedules)
    await platform.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
});

async function sync(dag: DagDefinition) {
  schedules.push(dag.dagId);
  return syncSchedule(platform.client, dag);
}

async function runsOf(dagId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of platform.client.workflow.list({ query: `BatonDag = '${dagId}' AND WorkflowType = 'noopDag'` })) ids.push(run.workflowId);
  return ids.sort();
}

/** Runs of a DAG from their task tables: when each really executed (after its slot was granted). */
function spans(results: NoopDagResult[]) {
  return results.map((r) => {
    const first = r.tasks[0] as Required<TaskRecord>;
    const last = r.tasks.at(-1) as Required<TaskRecord>;
    return { ds: r.ds, start: Date.parse(first.startedAt), end: Date.parse(last.startedAt) + last.durationMs };
  });
}

function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const edges = intervals
    .flatMap(
      (i) =>
        [
          [i.start, 1],
          [i.end, -1],
        ] as const,
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (now += d));
  return max;
}

test('scheduled runs take ds from their fire time: interval and trigger timetables across the US DST change', async () => {
  // catchup=True: the sync runs the fires since start_date, at 00:30 New York time on 03-09 (EST),
  // 03-10 (the DST day, still EST at 00:30) and 03-11 (EDT); end_date stops it there.
  const common = { schedule: '30 0 * * *', timezone: 'America/New_York', catchup: true };
  const interval = noopDagDefinition({ dagId: id('tt_interval'), ...common, timetable: 'interval', startDate: '2024-03-08', endDate: '2024-03-10' });
  const trigger = noopDagDefinition({ dagId: id('tt_trigger'), ...common, timetable: 'trigger', startDate: '2024-03-09', endDate: '2024-03-11' });
  for (const dag of [interval, trigger]) assert.equal(await sync(dag), 'created');
  const got = async (dag: DagDefinition, ds: string) => {
    const r = await resultOf<NoopDagResult>(platform.client, dagRunWorkflowId(dag.dagId, ds));
    return [r.ds, r.dataIntervalStart, r.dataIntervalEnd];
  };
  assert.deepEqual(await got(interval, '2024-03-08'), ['2024-03-08', '2024-03-08T05:30:00.000Z', '2024-03-09T05:30:00.000Z']);
  assert.deepEqual(await got(interval, '2024-03-09'), ['2024-03-09', '2024-03-09T05:30:00.000Z', '2024-03-10T05:30:00.000Z']);
  // The interval of the DST day is 23 hours long.
  assert.deepEqual(await got(interval, '2024-03-10'), ['2024-03-10', '2024-03-10T05:30:00.000Z', '2024-03-11T04:30:00.000Z']);
  assert.deepEqual(await got(trigger, '2024-03-09'), ['2024-03-09', '2024-03-09T05:30:00.000Z', '2024-03-09T05:30:00.000Z']);
  assert.deepEqual(await got(trigger, '2024-03-11'), ['2024-03-11', '2024-03-11T04:30:00.000Z', '2024-03-11T04:30:00.000Z']);
  assert.deepEqual(
    await runsOf(interval.dagId),
    ['2024-03-08', '2024-03-09', '2024-03-10'].map((d) => dagRunWorkflowId(interval.dagId, d)),
  );
  assert.deepEqual(
    await runsOf(trigger.dagId),
    ['2024-03-09', '2024-03-10', '2024-03-11'].map((d) => dagRunWorkflowId(trigger.dagId, d)),
  );
});

test('a run triggered on the schedule now processes the interval that just ended', async () => {
  const dag = noopDagDefinition({ dagId: id('tt_now') });
  await sync(dag);
  const firedAt = new Date();
  await platform.client.schedule.getHandle(dag.dagId).trigger();
  const expected = intervalForFireTime(dag, firedAt).ds;
  const r = await resultOf<NoopDagResult>(platform.client, dagRunWorkflowId(dag.dagId, expected));
  assert.equal(r.ds, expected);
});

test('catchup=True runs every missed interval since start_date, oldest first; catchup=False runs none', async () => {
  const today = utcDate(new Date());
  const startDate = addDays(today, -4);
  const withCatchup = noopDagDefinition({ dagId: id('catchup_on'), startDate, catchup: true, maxActiveRuns: 1 }, { taskSleepMs: 200 });
  const without = noopDagDefinition({ dagId: id('catchup_off'), startDate, catchup: false });
  await sync(withCatchup);
  await sync(without);
  // The 06:00 UTC fire on day D runs logical date D-1; D-1 must not be before start_date.
  const sixToday = Date.parse(`${today}T06:00:00Z`);
  const expected = [addDays(today, -4), addDays(today, -3), addDays(today, -2)];
  if (Date.now() >= sixToday) expected.push(addDays(today, -1));
  const results = [];
  for (const ds of expected) results.push(await resultOf<NoopDagResult>(platform.client, dagRunWorkflowId(withCatchup.dagId, ds)));
  assert.deepEqual(
    await runsOf(withCatchup.dagId),
    expected.map((d) => dagRunWorkflowId(withCatchup.dagId, d)),
  );
  const order = spans(results)
    .sort((a, b) => a.start - b.start)
    .map((s) => s.ds);
  assert.deepEqual(order, expected, 'oldest first');
  assert.equal(maxOverlap(spans(results)), 1, 'max_active_runs=1');
  assert.deepEqual(await runsOf(without.dagId), []);
});

for (const maxActiveRuns of [1, 3]) {
  test(`max_active_runs=${maxActiveRuns} holds over a 10-date backfill started with more at once`, async () => {
    const dag = noopDagDefinition({ dagId: id(`mar${maxActiveRuns}`), maxActiveRuns }, { tasks: 2, taskSleepMs: 400 });
    const dates = Array.from({ length: 10 }, (_, i) => addDays('2024-06-01', i));
    const handle = await startBackfill(platform.client, dag, { from: dates[0], to: dates[9], maxActive: 10, rerun: 'none', reverse: false }, dates);
    const summary = (await handle.result()) as BackfillProgress;
    assert.deepEqual([summary.succeeded, summary.failed, summary.skipped], [10, 0, 0]);
    const results = await Promise.all(dates.map((ds) => resultOf<NoopDagResult>(platform.client, dagRunWorkflowId(dag.dagId, ds))));
    assert.equal(maxOverlap(spans(results)), maxActiveRuns);
    if (maxActiveRuns === 1) {
      assert.deepEqual(
        spans(results)
          .sort((a, b) => a.start - b.start)
          .map((s) => s.ds),
        dates,
        'queued runs go in date order',
      );
    }
  });
}

test('depends_on_past: a run waits for the previous interval, fails when that run failed, and passes when there is none', async () => {
  const dag = noopDagDefinition({
    dagId: id('dop'),
    startDate: '2024-05-01',
    defaultArgs: { ...noopDagDefinition({ dagId: 'x' }).defaultArgs, dependsOnPast: true },
  });
  const start = (ds: string, extra: Record<string, unknown> = {}) =>
    platform.client.workflow.start('noopDag', { taskQueue: 'etl', workflowId: dagRunWorkflowId(dag.dagId, ds), args: [{ ...dag.runArgs, ds, ...extra }] });

  const first = await start('2024-05-01', { taskSleepMs: 4000 }); // the first interval after start_date does not wait
  const second = await start('2024-05-02');
  await new Promise((r) => setTimeout(r, 2500));
  const waiting = await second.query<TaskRecord[]>('tasks');
  assert.deepEqual(
    waiting.map((t) => t.state),
    ['scheduled', 'scheduled'],
    'blocked until 2024-05-01 succeeds',
  );
  const firstResult = (await first.result()) as NoopDagResult;
  const secondResult = (await second.result()) as NoopDagResult;
  assert.ok(spans([secondResult])[0].start >= spans([firstResult])[0].end);
  assert.deepEqual(secondResult.notes, []);

  const third = await start('2024-05-03', { failTask: 'task_1' });
  await assert.rejects(third.result(), WorkflowFailedError);
  const fourth = await start('2024-05-04');
  await assert.rejects(fourth.result(), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.cause?.message, `${dag.dagId} 2024-05-04: depends_on_past: the previous run ${dag.dagId}-2024-05-03 failed; rerun 2024-05-03 first`);
    return true;
  });

  // An isolated date (a manual run, a reversed backfill, a previous run past retention): no run of the day before.
  const isolated = (await (await start('2024-06-10')).result()) as NoopDagResult;
  assert.deepEqual(
    isolated.tasks.map((t) => t.state),
    ['success', 'success'],
  );
  assert.deepEqual(isolated.notes, [
    `depends_on_past: no run of 2024-06-09 (${dag.dagId}-2024-06-09) exists; passed, as Airflow does when there is no previous run`,
  ]);
});

test('schedule sync: a changed cron updates in place, a paused schedule stays paused, a removed DAG is reported and pruned', async () => {
  const dag = noopDagDefinition({ dagId: id('sync') });
  assert.equal(await sync(dag), 'created');
  assert.equal(await sync(dag), 'unchanged');
  const handle = platform.client.schedule.getHandle(dag.dagId);
  await handle.pause('paused by the test');
  assert.equal(await sync({ ...dag, schedule: '0 7 * * *' }), 'updated');
  const described = await handle.describe();
  assert.equal(described.state.paused, true);
  assert.deepEqual(
    described.spec.calendars?.map((c) => c.hour),
    [[{ start: 7, end: 7, step: 1 }]],
  );

  const report = await syncSchedules(platform.client, []);
  assert.ok(report.removed.includes(dag.dagId));
  assert.equal((await handle.describe()).state.paused, true, 'reported, not deleted');
  await syncSchedules(platform.client, [], true);
  await assert.rejects(handle.describe(), ScheduleNotFoundError);
});

test('a broken cron or an unknown timezone is refused before anything is created', async () => {
  const broken = noopDagDefinition({ dagId: id('broken'), schedule: '61 6 * * *' });
  await assert.rejects(syncSchedule(platform.client, broken), /cron "61 6 \* \* \*": minute "61" has 61, outside 0-59/);
  const badZone = noopDagDefinition({ dagId: id('badzone'), timezone: 'Mars/Olympus' });
  await assert.rejects(syncSchedule(platform.client, badZone), {
    message: `DAG "${badZone.dagId}": unknown timezone "Mars/Olympus" (an IANA name such as UTC or Europe/Berlin)`,
  });
  const never = noopDagDefinition({ dagId: id('never'), schedule: '0 6 30 2 *' });
  await assert.rejects(syncSchedule(platform.client, never), /cron "0 6 30 2 \*" never fires/);
  for (const dagId of [broken.dagId, badZone.dagId, never.dagId])
    await assert.rejects(platform.client.schedule.getHandle(dagId).describe(), ScheduleNotFoundError);
});

test('a backfill continues as new to keep its histories small, and still counts every date once', async () => {
  const dag = noopDagDefinition({ dagId: id('bf_can') }, { tasks: 1 });
  const dates = Array.from({ length: 10 }, (_, i) => addDays('2024-07-01', i));
  const handle = await startBackfill(platform.client, dag, { from: dates[0], to: dates[9], maxActive: 2, rerun: 'none', reverse: false }, dates, 3);
  const summary = (await platform.client.workflow.getHandle(handle.workflowId).result()) as BackfillProgress;
  assert.deepEqual([summary.total, summary.done, summary.succeeded, summary.skipped], [10, 10, 10, 0]);
  // Visibility is behind the result by a moment: its last run may still be listed as running.
  const statuses = async () => {
    const runs: string[] = [];
    for await (const run of platform.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(run.status.name);
    return runs.sort();
  };
  let runs = await statuses();
  for (let i = 0; i < 40 && runs.includes('RUNNING'); i++) runs = await new Promise((r) => setTimeout(r, 250)).then(statuses);
  assert.deepEqual(runs, ['COMPLETED', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW']);
  assert.deepEqual(
    await runsOf(dag.dagId),
    dates.map((d) => dagRunWorkflowId(dag.dagId, d)),
  );
});

test('start_date and end_date bound what the schedule runs', async () => {
  const dag = noopDagDefinition({ dagId: id('bounded'), startDate: '2024-08-02', endDate: '2024-08-04', catchup: true });
  await sync(dag);
  // Fires from 2024-08-01 06:00 to 2024-08-07 06:00: logical dates 07-31 .. 08-06, of which 08-02 .. 08-04 are in bounds.
  await platform.client.schedule.getHandle(dag.dagId).backfill([{ start: new Date('2024-08-01T00:00:00Z'), end: new Date('2024-08-07T12:00:00Z') }]);
  for (const ds of ['2024-08-02', '2024-08-03', '2024-08-04']) await resultOf<NoopDagResult>(platform.client, dagRunWorkflowId(dag.dagId, ds));
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(
    await runsOf(dag.dagId),
    ['2024-08-02', '2024-08-03', '2024-08-04'].map((d) => dagRunWorkflowId(dag.dagId, d)),
  );
});

test("an hourly DAG in Europe/Berlin: 25 intervals on the autumn change day and 23 in spring, each run once as <dag_id>-<ts>, at the schedule's fire times", async () => {
  const dag = noopDagDefinition(
    { dagId: id('hourly_berlin'), schedule: '0 * * * *', timezone: 'Europe/Berlin', startDate: '2026-03-01', endDate: '2026-11-01', maxActiveRuns: 8 },
    { tasks: 1 },
  );
  await sync(dag);
  for (const [day, count] of [
    ['2026-03-29', 23],
    ['2026-10-25', 25],
  ] as const) {
    const keys = planBackfill(dag, { from: day, to: day, maxActive: 8, rerun: 'none', reverse: false });
    assert.equal(keys.length, count, day);
    // The schedule fires at the end of each interval: Temporal's matching times are the next keys.
    const fires = await temporalCli([
      'schedule',
      'list-matching-times',
      '--schedule-id',
      dag.dagId,
      '--start-time',
      new Date(parseTs(keys[0]) + 1000).toISOString(),
      '--end-time',
      new Date(parseTs(keys.at(-1)!) + 3_600_000 + 1000).toISOString(),
      '-o',
      'json',
    ]);
    const fireTimes = ((JSON.parse(fires) as { startTime?: string[] }).startTime ?? []).map((t) => formatTs(Date.parse(t)));
    assert.deepEqual(fireTimes, [...keys.slice(1), formatTs(parseTs(keys.at(-1)!) + 3_600_000)], `${day}: Temporal fires at each interval's end`);
    const summary = (await (
      await startBackfill(platform.client, dag, { from: day, to: day, maxActive: 8, rerun: 'none', reverse: false }, keys)
    ).result()) as BackfillProgress;
    assert.deepEqual([summary.succeeded, summary.failed, summary.skipped], [count, 0, 0], day);
    const results = await Promise.all(keys.map((ts) => resultOf<NoopDagResult>(platform.client, dagRunWorkflowId(dag.dagId, ts))));
    assert.deepEqual(
      results.map((r) => r.ts),
      keys,
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.ds, day);
      assert.equal(Date.parse(r.dataIntervalEnd) - Date.parse(r.dataIntervalStart), 3_600_000, `${r.ts} lasts an hour`);
      if (i) assert.equal(r.dataIntervalStart, results[i - 1].dataIntervalEnd, `${r.ts} follows the one before`);
    }
    // Run again, the backfill skips every interval: each ran once.
    const again = (await (
      await startBackfill(platform.client, dag, { from: `${day}T00:00:00Z`, to: day, maxActive: 8, rerun: 'none', reverse: false }, keys)
    ).result()) as BackfillProgress;
    assert.deepEqual([again.succeeded, again.skipped], [0, count]);
  }
  const ids = await runsOf(dag.dagId);
  assert.equal(ids.length, 48);
  assert.ok(ids.includes(`${dag.dagId}-2026-10-25T00:00:00+00:00`) && ids.includes(`${dag.dagId}-2026-10-25T01:00:00+00:00`), 'both 02:00s of the autumn day');
  // The ts is a search attribute of its own; BatonDs holds the date.
  let found = 0;
  for await (const run of platform.client.workflow.list({
    query: `BatonDag = '${dag.dagId}' AND BatonTs = '2026-10-25T01:00:00+00:00' AND BatonDs = '2026-10-25'`,
  }))
    found += run ? 1 : 0;
  assert.equal(found, 1);
});
