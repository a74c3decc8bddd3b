/**
 * Issue 7, scenarios 3 and 4: the data path of orders_daily_etl without dbt (conf skip_dbt) on
 * 1M and 5M generated rows with 1% bad rows (1M only in the quick run), and the worker's memory
 * meanwhile.
 *
 * Each stage (extract, transform, load, validate) is timed from the run's history, activity
 * started to completed. The floor is `psql \copy` of what extract hands COPY (the file's records,
 * each with its line, as the numbering transform writes them) into an UNLOGGED table with the
 * staging table's text columns: Postgres doing the COPY alone, with no worker in the way. The
 * raw file itself cannot be the floor's input: its rows with a missing column stop a plain
 * 5-column COPY (Postgres 15 has no ON_ERROR), so the raw file, one text column a line, is only
 * shown beside it as the least any load of these bytes costs.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'pg';
import { writeNumberedCsv } from '../../activities/csv-file';
import { ORDERS_CONTRACT } from '../../src/dags';
import { TASK_QUEUE, WorkflowTypes, type OrdersDailyEtlInput, type OrdersDailyEtlResult } from '../../src/contracts';
import { ordersDailyEtlDag } from '../../src/dags';
import { generateOrders, type SeedSummary } from '../../src/seed';
import { median, processRssMb, sleep, spread, startBenchWorker, type BenchContext, type BenchWorker, type Figure } from '../harness';
import { runTimings } from '../runs';

const STAGES = ['extract', 'transform', 'load', 'validate'] as const;
type Stage = (typeof STAGES)[number];

/** The psql of the Postgres 15 install the platform runs. */
const PSQL = '/usr/lib/postgresql/15/bin/psql';

/** The floor's tables, in the bench database: staging's text columns, UNLOGGED like staging. */
const FLOOR_TABLE = 'public.bench_datapath_copy_floor';
const RAW_TABLE = 'public.bench_datapath_raw_lines';

/** A day of its own per size, apart from the other scenarios' files and partitions. */
const DAYS: Record<number, string> = { 250_000: '2031-09-03', 1_000_000: '2031-09-01', 5_000_000: '2031-09-05' };

interface Repeat {
  stages: Record<Stage, number>;
  /** The run from WorkflowExecutionStarted to its completion (slot, sensor and bookkeeping included). */
  runMs: number;
  floorMs: number;
  rawLinesMs: number;
  /** The numbering transform alone, file to file in the bench process. */
  numberingMs: number;
  peakMb: number;
  workerCpuS: number;
}

/** Connection arguments for psql from a postgres:// URL; the password goes in the child's environment only. */
function psqlConnection(databaseUrl: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username), '-d', url.pathname.slice(1)];
  return { args, env: { PATH: process.env.PATH, PGPASSWORD: decodeURIComponent(url.password), PGAPPNAME: 'baton-bench-datapath' } };
}

/** Runs one psql meta-command (`\copy ...`) in a child process; returns its wall time in ms. */
async function psqlTimed(databaseUrl: string, command: string): Promise<number> {
  const { args, env } = psqlConnection(databaseUrl);
  const started = performance.now();
  const child = spawn(PSQL, [...args, '-c', command], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`psql ${command.split(' ').slice(0, 2).join(' ')} exited with ${code}: ${stderr.trim()}`);
  return performance.now() - started;
}

/** A file name psql's \copy takes between single quotes. */
function psqlPath(file: string): string {
  if (/['\n\\]/.test(file)) throw new Error(`bench data path ${file} must not hold a quote, backslash or newline`);
  return `'${file}'`;
}

/** What extract hands COPY, written to a file by the same transform; returns the transform's time. */
async function numberRecords(csv: string, out: string): Promise<number> {
  const started = performance.now();
  await writeNumberedCsv(createReadStream(csv, { highWaterMark: 1 << 20 }), out, { ...ORDERS_CONTRACT, header: 'by-name' }, csv);
  return performance.now() - started;
}

/** The floor: psql \copy of extract's COPY input into a fresh UNLOGGED table shaped like staging. */
async function copyFloor(pool: Pool, databaseUrl: string, numbered: string): Promise<number> {
  await pool.query(`DROP TABLE IF EXISTS ${FLOOR_TABLE}`);
  await pool.query(
    `CREATE UNLOGGED TABLE ${FLOOR_TABLE} (
       line integer NOT NULL, order_id text, customer_id text, order_date text, amount text,
       status text, malformed_reason text, malformed_raw text)`,
  );
  try {
    return await psqlTimed(databaseUrl, `\\copy ${FLOOR_TABLE} (line, order_id, customer_id, order_date, amount, status, malformed_reason, malformed_raw) FROM ${psqlPath(numbered)} WITH (FORMAT csv)`);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${FLOOR_TABLE}`);
  }
}

/** For reference: the raw file as it is, one text column a line (no fields, no numbering). */
async function rawLinesCopy(pool: Pool, databaseUrl: string, csv: string): Promise<number> {
  await pool.query(`DROP TABLE IF EXISTS ${RAW_TABLE}`);
  await pool.query(`CREATE UNLOGGED TABLE ${RAW_TABLE} (raw text)`);
  try {
    return await psqlTimed(databaseUrl, `\\copy ${RAW_TABLE} FROM ${psqlPath(csv)} WITH (FORMAT text, HEADER true)`);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${RAW_TABLE}`);
  }
}

/** Load replaces the partition; emptying it first (outside the timing) times the first load of a day, every repeat. */
async function emptyPartition(pool: Pool, ds: string): Promise<void> {
  await pool.query('DELETE FROM warehouse.orders WHERE ds = $1', [ds]);
  await pool.query('DELETE FROM warehouse.orders_rejected WHERE ds = $1', [ds]);
  await pool.query('VACUUM (ANALYZE) warehouse.orders, warehouse.orders_rejected');
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

async function runOnce(ctx: BenchContext, worker: BenchWorker, taskQueue: string, workflowId: string, seed: SeedSummary): Promise<Omit<Repeat, 'floorMs' | 'rawLinesMs' | 'numberingMs'>> {
  const input: OrdersDailyEtlInput = { ds: seed.ds, conf: { skip_dbt: true } };
  const cpuBefore = await worker.cpuSeconds();
  const stopSampling = sampleRss(worker.pid);
  let result: OrdersDailyEtlResult;
  let peakMb: number;
  try {
    result = (await ctx.client.workflow.execute(WorkflowTypes.ordersDailyEtl, {
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
  if (result.loadedRows + result.rejectedRows !== seed.rows) problems.push(`loaded ${result.loadedRows} + rejected ${result.rejectedRows} != ${seed.rows} rows`);
  if (result.loadedRows !== seed.expectedLoaded || result.rejectedRows !== seed.expectedRejected) {
    problems.push(`loaded ${result.loadedRows} and rejected ${result.rejectedRows}, expected ${seed.expectedLoaded} and ${seed.expectedRejected}`);
  }
  if (problems.length) throw new Error(`datapath: run ${workflowId} is wrong: ${problems.join('; ')}`);

  const stages = {} as Record<Stage, number>;
  let runMs = 0;
  for (const stage of STAGES) {
    const timings = await runTimings(ctx.client, workflowId, stage);
    const [task] = timings.tasks;
    if (task?.startedAt === undefined || task.completedAt === undefined) throw new Error(`datapath: run ${workflowId} has no completed ${stage} in its history`);
    stages[stage] = task.completedAt - task.startedAt;
    runMs = timings.endedAt - timings.startedAt;
  }
  return { stages, runMs, peakMb, workerCpuS };
}

export async function datapathScenario(ctx: BenchContext): Promise<Figure[]> {
  const sizes = ctx.quick ? [250_000] : [1_000_000, 5_000_000];
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
      const numbered = path.join(dataDir, 'bench', `datapath-${ds}.copy.csv`);
      await mkdir(path.dirname(numbered), { recursive: true });
      ctx.say(`datapath: generating ${rows.toLocaleString('en')} rows (1% bad) for ${ds}`);
      const seed = await generateOrders({ ds, rows, badRate: 0.01, seed: 7, file: csv });
      const done: Repeat[] = [];
      try {
        for (let i = 0; i < repeats; i++) {
          const numberingMs = await numberRecords(csv, numbered);
          const floorMs = await copyFloor(pool, databaseUrl, numbered);
          const rawLinesMs = await rawLinesCopy(pool, databaseUrl, csv);
          await rm(numbered, { force: true });
          await emptyPartition(pool, ds);
          const run = await runOnce(ctx, worker, taskQueue, `${taskQueue}-${ordersDailyEtlDag.dagId}-${ds}-${i}`, seed);
          done.push({ ...run, floorMs, rawLinesMs, numberingMs });
          const s = run.stages;
          ctx.say(
            `datapath: ${rows.toLocaleString('en')} rows, run ${i + 1}/${repeats}: extract ${s.extract} ms (psql \\copy ${floorMs.toFixed(0)} ms), ` +
              `transform ${s.transform} ms, load ${s.load} ms, validate ${s.validate} ms, run ${run.runMs} ms; worker peak ${run.peakMb.toFixed(0)} MB, CPU ${run.workerCpuS.toFixed(1)} s`,
          );
        }
      } finally {
        await rm(numbered, { force: true });
      }
      peaks[rows] = Math.max(...done.map((r) => r.peakMb));
      figures.push(...sizeFigures(rows, done, atRest));
    }
    if (peaks[5_000_000] !== undefined) {
      const growth = peaks[5_000_000] / peaks[1_000_000];
      figures.push({ scenario: 'datapath', measure: 'orders_daily_etl: worker peak RSS, 5M rows / 1M rows', value: growth, unit: 'x', target: '<= 1.10x', met: growth <= 1.1 });
    }
  } finally {
    await worker?.stop();
    await keeper.stop();
    await pool.end();
  }
  return figures;
}

function sizeFigures(rows: number, done: Repeat[], atRest: number): Figure[] {
  const label = `${rows / 1_000_000}M rows`;
  const of = (pick: (r: Repeat) => number) => done.map(pick);
  const floorValues = of((r) => r.floorMs);
  const floor = { label: 'psql \\copy', value: median(floorValues) };
  const figure = (measure: string, values: number[], unit: string, extra: Partial<Figure> = {}): Figure => ({
    scenario: 'datapath', measure: `orders_daily_etl, ${label}: ${measure}`, value: median(values), unit, spread: spread(values), ...extra,
  });
  // Each run is paired with the floor measured just before it, under the same noise.
  const ratio = (values: number[]) => median(values.map((v, i) => v / floorValues[i]));

  const extract = of((r) => r.stages.extract);
  const fourStages = of((r) => STAGES.reduce((sum, s) => sum + r.stages[s], 0));
  const peak = of((r) => r.peakMb);
  return [
    figure('psql \\copy of the COPY input (floor)', floorValues, 'ms', { note: 'staging\'s text columns, UNLOGGED; ratios: median of each run to its own floor' }),
    figure('psql \\copy of the raw file, a line a row', of((r) => r.rawLinesMs), 'ms', { floor, ratio: ratio(of((r) => r.rawLinesMs)), note: 'reference: no fields, no line numbers' }),
    figure('extract', extract, 'ms', { floor, ratio: ratio(extract), target: '<= 1.25x', met: ratio(extract) <= 1.25 }),
    figure('extract: the numbering transform alone', of((r) => r.numberingMs), 'ms', { note: 'file to file, in the bench process' }),
    ...(['transform', 'load', 'validate'] as const).map((s) => figure(s, of((r) => r.stages[s]), 'ms', { floor, ratio: ratio(of((r) => r.stages[s])) })),
    figure('the four stages', fourStages, 'ms', { floor, ratio: ratio(fourStages), target: '<= 3x', met: ratio(fourStages) <= 3 }),
    figure('the run, start to end', of((r) => r.runMs), 'ms', { floor, ratio: ratio(of((r) => r.runMs)), note: 'slot, file sensor and bookkeeping included' }),
    figure('worker CPU during the run', of((r) => r.workerCpuS), 's'),
    figure('worker peak RSS', peak, 'MB', { target: '<= 250 MB', met: Math.max(...peak) <= 250, note: `the worker at rest: ${atRest.toFixed(0)} MB` }),
  ];
}
