/**
 * Scenario 5: a backfill of orders_daily_etl through Baton's real backfill path (the durable
 * backfill workflow, the slot keeper, max_active_runs), 365 dates of 1,000 rows without dbt
 * (conf skip_dbt) 4 at a time, and 30 dates with dbt. The floor is the same runs one after
 * another in the bench process, with the same activities called directly: extract, transform,
 * load, validate (and dbt_run), no orchestration. With 4 runs at a time Baton may beat it.
 *
 * The dates with dbt run one at a time (the backfill's --max-active 1), as orders_daily_etl's
 * own max_active_runs 1 runs them: two `dbt run`s of the same models at once collide on dbt's
 * swap tables (`relation "stg_orders__dbt_backup" already exists`), and the run fails.
 */
import { utimes } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Pool } from 'pg';
import { projectRoot as repoRoot } from '../../src/config';
import * as ordersTasks from '../../workflows/dags/orders_daily_etl/activities';
import { boundTasks } from '../../test/support/own-tasks';
import { backfillProgress, planBackfill, type BackfillRequest } from '../../src/backfill';
import { backfillWorkflowId, Signals, slotsWorkflowId, TASK_QUEUE, WorkflowTypes, type BackfillInput, type BackfillProgress } from '../../src/contracts';
import { dagRunWorkflowId, type DagDefinition } from '../../src/dags';
import { createLogger } from '../../src/logging';
import { dsNodash } from '../../src/logical-date';
import { generateOrders, type SeedSummary } from '../../scripts/sample-orders';
import { benchOrdersDag } from '../backfill-dag';
import { median, startBenchWorker, type BenchContext, type BenchWorker, type Figure } from '../harness';

const EventType = temporal.api.enums.v1.EventType;

const ROWS = 1_000;
const BAD_RATE = 0.01;

interface Case {
  label: string;
  /** The dates of this case: years no other scenario uses. */
  from: string;
  to: string;
  dbt: boolean;
  /** Runs at a time: the backfill's --max-active (the DAG's max_active_runs is 4). */
  maxActive: number;
}

interface CaseResult {
  case: Case;
  dates: number;
  batonMs: number;
  floorMs: number;
  progress: BackfillProgress;
  runs: RunBreakdown[];
  /** The measured worker's CPU over the backfill, in % of one core. */
  workerCpuPercent: number;
}

/** Where one run's time went, from its history. */
interface RunBreakdown {
  /** Started to completed. */
  totalMs: number;
  /** From asking the slot keeper for a run slot to being granted one. */
  slotWaitMs: number;
  /** The data tasks' activities (extract, transform, load, validate, dbtRun), started to completed, summed. */
  dataTasksMs: number;
}

export async function backfillScenario(ctx: BenchContext): Promise<Figure[]> {
  const cases: Case[] = [
    { label: 'without dbt', from: '2041-01-01', to: ctx.quick ? '2041-01-04' : '2041-12-31', dbt: false, maxActive: 4 },
    { label: 'with dbt', from: '2040-01-01', to: ctx.quick ? '2040-01-01' : '2040-01-30', dbt: true, maxActive: 1 },
  ];
  const pool = new Pool({ connectionString: ctx.config.databaseUrl, max: 4 });
  // The backfill and its runs go on a task queue of the scenario's own: other scenarios' workers
  // poll Baton's main queue (etl) in the bench namespace, and one that took a run's task and then
  // stopped would cancel it. The slot keeper runs on the main queue (requestRunSlot starts it
  // there); a small worker of its own serves it, as Baton's worker does.
  const taskQueue = `bench-backfill-${randomUUID().slice(0, 8)}`;
  const keeper = await startBenchWorker(ctx, TASK_QUEUE, 2);
  const results: CaseResult[] = [];
  try {
    const worker = await startBenchWorker(ctx, taskQueue, 10);
    try {
      for (const c of cases) results.push(await runCase(ctx, pool, worker, taskQueue, c));
    } finally {
      await worker.stop();
    }
  } finally {
    // The keeper waits for runs forever: end it, so no bench run leaves a workflow behind.
    await terminateIfRunning(ctx, slotsWorkflowId(benchOrdersDag.dagId));
    await keeper.stop();
    await pool.end();
  }

  const figures: Figure[] = [];
  for (const r of results) {
    const measure = `${r.dates} date${r.dates === 1 ? '' : 's'} x ${ROWS.toLocaleString('en')} rows ${r.case.label}, ${r.case.maxActive} at a time`;
    const floorLabel = 'the same tasks one after another, no orchestration';
    const perMinute = (ms: number) => r.dates / (ms / 60_000);
    figures.push({
      scenario: 'backfill',
      measure: `${measure}: wall time`,
      value: r.batonMs / 1000,
      unit: 's',
      floor: { label: floorLabel, value: r.floorMs / 1000 },
      ratio: r.batonMs / r.floorMs,
      note: `below 1x: Baton beats the floor; the worker process used ${r.workerCpuPercent.toFixed(0)} % of a core${r.case.dbt ? ' (dbt, its child, not counted)' : ''}`,
    });
    figures.push({
      scenario: 'backfill',
      measure: `${measure}: runs per minute`,
      value: perMinute(r.batonMs),
      unit: 'runs/min',
      floor: { label: floorLabel, value: perMinute(r.floorMs) },
      ratio: perMinute(r.batonMs) / perMinute(r.floorMs),
      note: `higher is better; ${r.progress.succeeded} of ${r.progress.total} runs succeeded, the warehouse's rows checked per date`,
    });
    const pick = (k: keyof RunBreakdown) => r.runs.map((run) => run[k]);
    figures.push(
      {
        scenario: 'backfill',
        measure: `${measure}: a run, start to end (median)`,
        value: median(pick('totalMs')),
        unit: 'ms',
        spread: [Math.min(...pick('totalMs')), Math.max(...pick('totalMs'))],
      },
      {
        scenario: 'backfill',
        measure: `${measure}: a run's wait for its slot (median)`,
        value: median(pick('slotWaitMs')),
        unit: 'ms',
        spread: [Math.min(...pick('slotWaitMs')), Math.max(...pick('slotWaitMs'))],
      },
      {
        scenario: 'backfill',
        measure: `${measure}: a run's data tasks (median)`,
        value: median(pick('dataTasksMs')),
        unit: 'ms',
        note: 'extract, transform, load, validate (and dbt_run) activities, started to completed',
      },
    );
  }
  return figures;
}

async function runCase(ctx: BenchContext, pool: Pool, worker: BenchWorker, taskQueue: string, c: Case): Promise<CaseResult> {
  const dag: DagDefinition = { ...benchOrdersDag, ...(c.dbt ? {} : { runArgs: { conf: { skip_dbt: true } } }) };
  const request: BackfillRequest = { from: c.from, to: c.to, maxActive: c.maxActive, rerun: 'all', reverse: false };
  const dates = planBackfill(dag, request);
  await clearLeftovers(ctx, dag, request);

  ctx.say(`backfill ${c.label}: generating ${dates.length} files of ${ROWS} rows`);
  const seeds = new Map<string, SeedSummary>();
  for (const ds of dates) {
    const file = path.join(ctx.config.dataDir, 'raw', `orders_${ds}.csv`);
    seeds.set(ds, await generateOrders({ ds, rows: ROWS, badRate: BAD_RATE, seed: Number(dsNodash(ds)), file }));
    // Files that landed a while ago: wait_for_file finds them settled at its first check.
    const landed = new Date(Date.now() - 60_000);
    await utimes(file, landed, landed);
  }

  // The floor first, so the backfill's results are what the warehouse holds when it is checked.
  ctx.say(`backfill ${c.label}: the floor, ${dates.length} runs one after another in this process`);
  const floorMs = await sequentialFloor(ctx, pool, dates, seeds, c.dbt);
  ctx.say(`backfill ${c.label}: floor ${(floorMs / 1000).toFixed(1)} s`);

  ctx.say(`backfill ${c.label}: ${dates.length} dates through baton backfill, ${c.maxActive} at a time`);
  // What startBackfill starts (src/backfill.ts), on the scenario's task queue instead of etl.
  const input: BackfillInput = {
    dagId: dag.dagId,
    workflowType: dag.workflowType,
    dates,
    maxActive: request.maxActive,
    rerun: request.rerun,
    ...(dag.runArgs ? { args: dag.runArgs } : {}),
  };
  const cpuBefore = await worker.cpuSeconds();
  const started = performance.now();
  const handle = await ctx.client.workflow.start(WorkflowTypes.dagBackfill, {
    taskQueue,
    workflowId: backfillWorkflowId(dag.dagId, request.from, request.to),
    args: [input],
  });
  const ticker = setInterval(() => {
    void backfillProgress(ctx.client, handle.workflowId).then((p) => p && ctx.say(`backfill ${c.label}: ${p.done}/${p.total} done, ${p.failed} failed`));
  }, 30_000);
  let progress: BackfillProgress;
  try {
    progress = (await handle.result()) as BackfillProgress;
  } finally {
    clearInterval(ticker);
  }
  const batonMs = performance.now() - started;
  const workerCpuPercent = (((await worker.cpuSeconds()) - cpuBefore) / (batonMs / 1000)) * 100;
  ctx.say(`backfill ${c.label}: ${progress.succeeded}/${progress.total} succeeded in ${(batonMs / 1000).toFixed(1)} s`);

  if (progress.succeeded !== dates.length || progress.failed || progress.skipped) {
    throw new Error(
      `backfill ${c.label}: ${progress.succeeded} of ${dates.length} dates succeeded, ${progress.failed} failed (${progress.failedDates.slice(0, 5).join(', ')}), ${progress.skipped} skipped`,
    );
  }
  await checkWarehouse(pool, c, seeds);
  const runs: RunBreakdown[] = [];
  for (let i = 0; i < dates.length; i += 20) {
    runs.push(...(await Promise.all(dates.slice(i, i + 20).map((ds) => runBreakdown(ctx, dagRunWorkflowId(dag.dagId, ds))))));
  }
  ctx.say(
    `backfill ${c.label}: a run takes ${median(runs.map((r) => r.totalMs)).toFixed(0)} ms (median), ${median(runs.map((r) => r.slotWaitMs)).toFixed(0)} ms of it waiting for its slot, ${median(runs.map((r) => r.dataTasksMs)).toFixed(0)} ms in data tasks`,
  );
  return { case: c, dates: dates.length, batonMs, floorMs, progress, runs, workerCpuPercent };
}

/** The DAG file's own data tasks, as activity types under the benchmark's dag id. */
const DATA_TASKS = ['extract', 'transform', 'load', 'validate', 'dbtRun'].map((t) => `${benchOrdersDag.dagId}.${t}`);

async function runBreakdown(ctx: BenchContext, workflowId: string): Promise<RunBreakdown> {
  const events = (await ctx.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const time = (e: (typeof events)[number]) => tsToMs(e.eventTime);
  const scheduled = new Map<number, string>();
  const started = new Map<number, number>();
  let slotAsked: number | undefined;
  let slotGranted: number | undefined;
  let dataTasksMs = 0;
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
      scheduled.set(Number(e.eventId), type);
      if (type === 'requestRunSlot') slotAsked = time(e);
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      started.set(Number(e.activityTaskStartedEventAttributes?.scheduledEventId), time(e));
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const id = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId);
      if (DATA_TASKS.includes(scheduled.get(id) ?? '')) dataTasksMs += time(e) - (started.get(id) ?? time(e));
    } else if (
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
      e.workflowExecutionSignaledEventAttributes?.signalName === Signals.slotGranted
    ) {
      slotGranted ??= time(e);
    }
  }
  return {
    totalMs: time(events[events.length - 1]) - time(events[0]),
    slotWaitMs: slotAsked !== undefined && slotGranted !== undefined ? slotGranted - slotAsked : 0,
    dataTasksMs,
  };
}

/** The runs one after another in this process: the same activities, called directly, no workflow. */
async function sequentialFloor(ctx: BenchContext, pool: Pool, dates: string[], seeds: Map<string, SeedSummary>, dbt: boolean): Promise<number> {
  const acts = boundTasks(ordersTasks, {
    dagId: 'orders_daily_etl',
    folder: path.join(repoRoot, 'workflows', 'dags', 'orders_daily_etl'),
    pool,
    config: ctx.config,
    logger: createLogger('error', 'bench-floor'),
  });
  // The tasks read their activity context (heartbeats, cancellation, metrics): a mock one, at no cost.
  const env = new MockActivityEnvironment();
  const call = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args);
  const started = performance.now();
  for (const ds of dates) {
    const { rowCount } = await call(acts.extract, { ds });
    await call(acts.transform, { ds, rowCount });
    const loaded = await call(acts.load, { ds });
    await call(acts.validate, { ds, rowCount });
    if (dbt) await call(acts.dbtRun, { ds, select: 'tag:orders' });
    if (loaded.loadedRows !== seeds.get(ds)!.expectedLoaded)
      throw new Error(`floor ${ds}: loaded ${loaded.loadedRows} rows, expected ${seeds.get(ds)!.expectedLoaded}`);
  }
  return performance.now() - started;
}

/** Every date of the case holds exactly the rows its file should load and reject (and, with dbt, its revenue). */
async function checkWarehouse(pool: Pool, c: Case, seeds: Map<string, SeedSummary>): Promise<void> {
  const perDate = async (sql: string) => new Map((await pool.query<{ ds: string; n: string }>(sql, [c.from, c.to])).rows.map((r) => [r.ds, r.n]));
  const loaded = await perDate(`SELECT ds::text, count(*)::text AS n FROM warehouse.orders WHERE ds BETWEEN $1 AND $2 GROUP BY ds`);
  const rejected = await perDate(`SELECT ds::text, count(*)::text AS n FROM warehouse.orders_rejected WHERE ds BETWEEN $1 AND $2 GROUP BY ds`);
  const revenue = c.dbt ? await perDate(`SELECT ds::text, revenue::text AS n FROM analytics_dev.daily_revenue WHERE ds BETWEEN $1 AND $2`) : undefined;
  const wrong: string[] = [];
  for (const [ds, seed] of seeds) {
    if (Number(loaded.get(ds) ?? 0) !== seed.expectedLoaded) wrong.push(`${ds}: ${loaded.get(ds) ?? 0} rows loaded, expected ${seed.expectedLoaded}`);
    if (Number(rejected.get(ds) ?? 0) !== seed.expectedRejected) wrong.push(`${ds}: ${rejected.get(ds) ?? 0} rows rejected, expected ${seed.expectedRejected}`);
    if (revenue && revenue.get(ds) !== seed.expectedRevenue)
      wrong.push(`${ds}: daily_revenue ${revenue.get(ds) ?? 'missing'}, expected ${seed.expectedRevenue}`);
  }
  if (loaded.size !== seeds.size) wrong.push(`${loaded.size} dates in warehouse.orders between ${c.from} and ${c.to}, expected ${seeds.size}`);
  if (wrong.length) throw new Error(`backfill ${c.label}: the warehouse is not what the files hold: ${wrong.slice(0, 10).join('; ')}`);
}

/** A bench run that died leaves its backfill, its runs and the keeper's slots behind: end them first. */
async function clearLeftovers(ctx: BenchContext, dag: DagDefinition, request: BackfillRequest): Promise<void> {
  await terminateIfRunning(ctx, backfillWorkflowId(dag.dagId, request.from, request.to));
  const running: string[] = [];
  for await (const run of ctx.client.workflow.list({ query: `WorkflowType = '${dag.workflowType}' AND ExecutionStatus = 'Running'` }))
    running.push(run.workflowId);
  await Promise.all(running.map((id) => terminateIfRunning(ctx, id)));
  await terminateIfRunning(ctx, slotsWorkflowId(dag.dagId));
}

async function terminateIfRunning(ctx: BenchContext, workflowId: string): Promise<void> {
  const handle = ctx.client.workflow.getHandle(workflowId);
  try {
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('benchmark cleanup');
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
