/**
 * Scenarios 3 and 4: the data path of orders_daily_etl without dbt (conf skip_dbt) on 1M and 5M
 * generated rows with 1% bad rows (0.1M in the quick run), and the worker's memory meanwhile.
 *
 * Each stage (extract, transform, load, validate) is timed from the run's history, activity
 * started to completed. Two floors, measured just before each run:
 * - a bare `psql \copy` of the same file into an UNLOGGED table of one text column (a line a
 *   row): Postgres taking the bytes, nothing split, checked or typed;
 * - the psql script a competent engineer writes for the same load: `\copy` into a typed temp
 *   table, then one `INSERT ... SELECT DISTINCT ON (order_id)` into the day's partition of a
 *   table shaped as warehouse.orders (primary key included), in one transaction. A typed
 *   `\copy` stops at the first bad value, so the script loads a clean file of the same size
 *   (`badRate` 0): it does less than Baton, which also checks, numbers and rejects.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'pg';
import { stagingTables } from '../../workflows/dags/orders_daily_etl/warehouse';
import { TASK_QUEUE, type DagRunInput } from '../../src/contracts';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../../test/support/reference-dags';
import { generateOrders, type SeedSummary } from '../../scripts/sample-orders';
import { median, processRssMb, sleep, spread, startBenchWorker, type BenchContext, type BenchWorker, type Figure } from '../harness';
import { runTimings } from '../runs';
import { DAYS, UNCLOSED_DAY, rawLinesCopy, scriptFloor } from './datapath-floors';

const STAGES = ['extract', 'transform', 'load', 'validate'] as const;
type Stage = (typeof STAGES)[number];

interface Repeat {
  stages: Record<Stage, number>;
  /** The run from WorkflowExecutionStarted to its completion (slot, sensor and bookkeeping included). */
  runMs: number;
  rawLinesMs: number;
  scriptMs: number;
  peakMb: number;
  workerCpuS: number;
}

async function emptyPartition(pool: Pool, ds: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${stagingTables(ds).partition}`);
  await pool.query('DELETE FROM warehouse.orders_rejected WHERE ds = $1', [ds]);
  await pool.query('VACUUM (ANALYZE) warehouse.orders_rejected');
}

/** Samples the worker's RSS every 100 ms until the returned stop() is called, which gives the peak. */
function sampleRss(pid: number): () => Promise<number> {
  let peak = 0;
  let sampling = true;
  const loop = (async () => {
    while (sampling) {
      peak = Math.max(peak, await processRssMb(pid).catch(() => 0));
      await sleep(100);
    }
  })();
  return async () => {
    sampling = false;
    await loop;
    return peak;
  };
}

async function runOnce(
  ctx: BenchContext,
  worker: BenchWorker,
  taskQueue: string,
  workflowId: string,
  seed: SeedSummary,
  conf: Record<string, unknown> = {},
): Promise<Omit<Repeat, 'rawLinesMs' | 'scriptMs'>> {
  const input: DagRunInput = { ds: seed.ds, conf: { skip_dbt: true, ...conf } };
  const cpuBefore = await worker.cpuSeconds();
  const stopSampling = sampleRss(worker.pid);
  let result: OrdersDailyEtlResult;
  let peakMb: number;
  try {
    result = (await ctx.client.workflow.execute('ordersDailyEtl', {
      taskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: '30m',
    })) as OrdersDailyEtlResult;
  } finally {
    peakMb = await stopSampling();
  }
  const workerCpuS = (await worker.cpuSeconds()) - cpuBefore;
  // A broken run must not produce a fast number: every row is loaded or rejected, as the seed says.
  const problems: string[] = [];
  if (result.state !== 'success') problems.push(`state ${result.state}`);
  if (result.rowCount !== seed.rows) problems.push(`extract staged ${result.rowCount} rows of ${seed.rows}`);
  if (result.loadedRows + result.rejectedRows !== seed.rows)
    problems.push(`loaded ${result.loadedRows} + rejected ${result.rejectedRows} != ${seed.rows} rows`);
  if (result.loadedRows !== seed.expectedLoaded || result.rejectedRows !== seed.expectedRejected) {
    problems.push(`loaded ${result.loadedRows} and rejected ${result.rejectedRows}, expected ${seed.expectedLoaded} and ${seed.expectedRejected}`);
  }
  if (problems.length) throw new Error(`datapath: run ${workflowId} is wrong: ${problems.join('; ')}`);

  const stages = {} as Record<Stage, number>;
  let runMs = 0;
  for (const stage of STAGES) {
    // The DAG file's own tasks: activities `orders_daily_etl.<stage>`.
    const timings = await runTimings(ctx.client, workflowId, `${ordersDailyEtlDag.dagId}.${stage}`);
    const [task] = timings.tasks;
    if (task?.startedAt === undefined || task.completedAt === undefined)
      throw new Error(`datapath: run ${workflowId} has no completed ${stage} in its history`);
    stages[stage] = task.completedAt - task.startedAt;
    runMs = timings.endedAt - timings.startedAt;
  }
  return { stages, runMs, peakMb, workerCpuS };
}

export async function datapathScenario(ctx: BenchContext): Promise<Figure[]> {
  const sizes = ctx.quick ? [100_000] : [1_000_000, 5_000_000];
  const repeats = ctx.quick ? 1 : 3;
  const databaseUrl = ctx.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('datapath: the bench environment has no DATABASE_URL');
  const dataDir = ctx.config.dataDir;
  const figures: Figure[] = [];
  const peaks: Record<number, number> = {};
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  // Runs fail at once instead of retrying 5 minutes later, and the sensor takes a fresh file after 1 s.
  const workerCtx: BenchContext = { ...ctx, env: { ...ctx.env, BATON_RETRY_ATTEMPTS: '1', BATON_FILE_SETTLE: '1s' } };
  const taskQueue = `bench-datapath-${randomUUID().slice(0, 8)}`;
  // max_active_runs=1: the DAG's slot keeper runs on the main task queue; a worker of its own
  // serves it so that the measured worker (on the scenario's queue) does only the run's work.
  const keeper = await startBenchWorker(workerCtx, TASK_QUEUE, 2);
  let worker: BenchWorker | undefined;
  try {
    worker = await startBenchWorker(workerCtx, taskQueue, 4);
    await sleep(2_000);
    const atRest = await processRssMb(worker.pid);
    ctx.say(`datapath: worker at rest ${atRest.toFixed(0)} MB`);

    for (const rows of sizes) {
      const ds = DAYS[rows];
      const csv = path.join(dataDir, 'raw', `orders_${ds}.csv`);
      const clean = path.join(dataDir, 'bench', `datapath-${ds}.clean.csv`);
      await mkdir(path.dirname(clean), { recursive: true });
      ctx.say(`datapath: generating ${rows.toLocaleString('en')} rows (1% bad) for ${ds}, and a clean file as many rows long for the script`);
      const seed = await generateOrders({ ds, rows, badRate: 0.01, seed: 7, file: csv });
      await generateOrders({ ds, rows, badRate: 0, seed: 7, file: clean });
      const done: Repeat[] = [];
      try {
        for (let i = 0; i < repeats; i++) {
          const rawLinesMs = await rawLinesCopy(pool, databaseUrl, csv);
          const scriptMs = await scriptFloor(pool, databaseUrl, clean, ds);
          await emptyPartition(pool, ds);
          const run = await runOnce(ctx, worker, taskQueue, `${taskQueue}-${ordersDailyEtlDag.dagId}-${ds}-${i}`, seed);
          done.push({ ...run, rawLinesMs, scriptMs });
          const s = run.stages;
          ctx.say(
            `datapath: ${rows.toLocaleString('en')} rows, run ${i + 1}/${repeats}: extract ${s.extract} ms, transform ${s.transform} ms, load ${s.load} ms, validate ${s.validate} ms ` +
              `(psql \\copy ${rawLinesMs.toFixed(0)} ms, the psql script ${scriptMs.toFixed(0)} ms), run ${run.runMs} ms; worker peak ${run.peakMb.toFixed(0)} MB, CPU ${run.workerCpuS.toFixed(1)} s`,
          );
        }
      } finally {
        await rm(clean, { force: true });
      }
      peaks[rows] = Math.max(...done.map((r) => r.peakMb));
      figures.push(...sizeFigures(rows, done, atRest));
    }
    if (peaks[5_000_000] !== undefined) {
      const growth = peaks[5_000_000] / peaks[1_000_000];
      figures.push({
        scenario: 'datapath',
        measure: 'orders_daily_etl: worker peak RSS, 5M rows / 1M rows',
        value: growth,
        unit: 'x',
        target: '<= 1.10x',
        met: growth <= 1.1,
      });
    }
    figures.push(...(await unclosedQuote(ctx, pool, worker, taskQueue, ctx.quick ? 4 << 20 : 1 << 30)));
  } finally {
    await worker?.stop();
    await keeper.stop();
    await pool.end();
  }
  return figures;
}

/**
 * A file of `bytes` whose line 2 opens a quote that never closes: the reader rejects that line
 * and reads every later one as a record, in linear time and bounded memory.
 */
async function unclosedQuote(ctx: BenchContext, pool: Pool, worker: BenchWorker, taskQueue: string, bytes: number): Promise<Figure[]> {
  const ds = UNCLOSED_DAY;
  const file = path.join(ctx.config.dataDir, 'raw', `orders_${ds}.csv`);
  const size = bytes >= 1 << 30 ? `${bytes / (1 << 30)} GB` : `${Math.round(bytes / (1 << 20))} MB`;
  ctx.say(`datapath: writing a ${size} file with a quote left open on line 2 (${ds})`);
  const out = createWriteStream(`${file}.partial`);
  out.write(`order_id,customer_id,order_date,amount,status\n1,"C-1,${ds},1.00,shipped\n`);
  let written = 0;
  let rows = 1;
  while (written < bytes) {
    let chunk = '';
    for (let i = 0; i < 20_000; i++) chunk += `${++rows},C-${rows % 5000},${ds},1.00,shipped\n`;
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await rename(`${file}.partial`, file);
  try {
    await emptyPartition(pool, ds);
    // The rows of the file: the one with the open quote is rejected with its line, every other one loads.
    const expected = { ds, rows, expectedLoaded: rows - 1, expectedRejected: 1 } as SeedSummary;
    const run = await runOnce(ctx, worker, taskQueue, `${taskQueue}-${ordersDailyEtlDag.dagId}-${ds}-unclosed`, expected, { max_rejected_ratio: 1 });
    ctx.say(
      `datapath: ${size} with an open quote on line 2: ${rows.toLocaleString('en')} records, 1 rejected, the four stages in ${STAGES.reduce((n, st) => n + run.stages[st], 0)} ms, worker peak ${run.peakMb.toFixed(0)} MB`,
    );
    const label = `orders_daily_etl, a ${size} file (${rows.toLocaleString('en')} records) with a quote left open on line 2`;
    return [
      {
        scenario: 'datapath',
        measure: `${label}: the four stages`,
        value: STAGES.reduce((n, st) => n + run.stages[st], 0),
        unit: 'ms',
        note: 'line 2 rejected, every later line loaded (checked)',
      },
      { scenario: 'datapath', measure: `${label}: worker peak RSS`, value: run.peakMb, unit: 'MB', target: '<= 250 MB', met: run.peakMb <= 250 },
    ];
  } finally {
    await rm(file, { force: true });
    await emptyPartition(pool, ds);
  }
}

function sizeFigures(rows: number, done: Repeat[], atRest: number): Figure[] {
  const label = `${rows / 1_000_000}M rows`;
  const of = (pick: (r: Repeat) => number) => done.map(pick);
  const raw = of((r) => r.rawLinesMs);
  const script = of((r) => r.scriptMs);
  const rawFloor = { label: 'psql \\copy', value: median(raw) };
  const scriptFloor = { label: 'the psql script', value: median(script) };
  const figure = (measure: string, values: number[], unit: string, extra: Partial<Figure> = {}): Figure => ({
    scenario: 'datapath',
    measure: `orders_daily_etl, ${label}: ${measure}`,
    value: median(values),
    unit,
    spread: spread(values),
    ...extra,
  });
  // Each run is paired with the floors measured just before it, under the same noise.
  const ratio = (values: number[], floors: number[]) => median(values.map((v, i) => v / floors[i]));

  const fourStages = of((r) => STAGES.reduce((sum, s) => sum + r.stages[s], 0));
  const peak = of((r) => r.peakMb);
  return [
    figure('psql \\copy of the file into an UNLOGGED text table (floor)', raw, 'ms', {
      note: 'a line a row: nothing split, checked or typed; ratios: median of each run to its own floors',
    }),
    figure('the hand-written psql script (floor)', script, 'ms', {
      note: "\\copy into a typed temp table, INSERT ... SELECT DISTINCT ON (order_id) into the day's partition; a clean file as many rows long",
    }),
    ...STAGES.map((s) =>
      figure(
        s,
        of((r) => r.stages[s]),
        'ms',
        {
          floor: rawFloor,
          ratio: ratio(
            of((r) => r.stages[s]),
            raw,
          ),
        },
      ),
    ),
    figure('the four stages', fourStages, 'ms', { floor: rawFloor, ratio: ratio(fourStages, raw), target: '<= 5x', met: ratio(fourStages, raw) <= 5 }),
    figure('the four stages, to the psql script', fourStages, 'ms', {
      floor: scriptFloor,
      ratio: ratio(fourStages, script),
      target: '<= 0.7x',
      met: ratio(fourStages, script) <= 0.7,
    }),
    figure(
      'the run, start to end',
      of((r) => r.runMs),
      'ms',
      {
        floor: rawFloor,
        ratio: ratio(
          of((r) => r.runMs),
          raw,
        ),
        note: 'slot, file sensor and bookkeeping included',
      },
    ),
    figure(
      'worker CPU during the run',
      of((r) => r.workerCpuS),
      's',
    ),
    figure('worker peak RSS', peak, 'MB', { target: '<= 250 MB', met: Math.max(...peak) <= 250, note: `the worker at rest: ${atRest.toFixed(0)} MB` }),
  ];
}
