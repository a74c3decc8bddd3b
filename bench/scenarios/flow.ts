/**
 * Scenario 7 (and issue 6's figures): the flow orders-etl on 1M generated rows, CSV to clean
 * Parquet through the worker, against one DuckDB statement doing the same work (the floor);
 * and the worker's peak memory at 1M and 5M rows (5M in the full run only).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { OrdersPipelineResult } from '../../workflows/dags/orders-etl/contract';
import { generateOrders } from '../../scripts/sample-orders';
import { median, processRssMb, sleep, spread, startBenchWorker, type BenchContext, type Figure } from '../harness';
import { runTimings } from '../runs';

/** The activities of a run, timed from its history: where the time goes. */
const STAGES = ['cacheLookup', 'extractOrders', 'cacheStore', 'transformOrders', 'loadOrders'];
/** A stage's activity type: the cache's are Baton's, the others the DAG file's own tasks (`orders-etl.<name>`). */
const activityOf = (stage: string) => (stage.startsWith('cache') ? stage : `orders-etl.${stage}`);

/** The floor: the clean Parquet file in one statement, straight from the CSV. */
async function oneStatement(csv: string, parquet: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '256MB' });
  const connection = await instance.connect();
  const started = performance.now();
  try {
    const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
    await connection.run(
      `COPY (
         SELECT trim(order_id) AS order_id, customer_id, order_date, TRY_CAST(trim(amount) AS DOUBLE) AS amount, status
         FROM read_csv(${quote(csv)}, header = true, all_varchar = true, ignore_errors = true)
         WHERE coalesce(trim(order_id), '') <> '' AND (coalesce(trim(amount), '') = '' OR TRY_CAST(trim(amount) AS DOUBLE) IS NOT NULL)
       ) TO ${quote(parquet)} (FORMAT parquet)`,
    );
    return performance.now() - started;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function flowScenario(ctx: BenchContext): Promise<Figure[]> {
  const dataDir = ctx.config.dataDir;
  const sizes = ctx.quick ? [100_000] : [1_000_000, 5_000_000];
  const repeats = ctx.quick ? 1 : 3;
  const figures: Figure[] = [];
  const peaks: Record<number, number> = {};
  const taskQueue = `bench-flow-${randomUUID().slice(0, 8)}`;
  // The file is generated before the runs: its settle wait (5 s, as wait_for_file's) is not the flow's work.
  const worker = await startBenchWorker({ ...ctx, env: { ...ctx.env, BATON_FILE_SETTLE: '0s' } }, taskQueue, 10);
  const atRest = await processRssMb(worker.pid);
  try {
    for (const rows of sizes) {
      const startDate = { 100_000: '2031-07-07', 250_000: '2031-07-03', 1_000_000: '2031-07-01' }[rows] ?? '2031-07-05';
      const csv = path.join(dataDir, 'raw', `orders_${startDate}.csv`);
      ctx.say(`flow: generating ${rows.toLocaleString('en')} rows`);
      await generateOrders({ ds: startDate, rows, badRate: 0.01, seed: 7, file: csv });

      const flowMs: number[] = [];
      const stageMs: Record<string, number[]> = {};
      const floorMs: number[] = [];
      let peak = 0;
      for (let i = 0; i < repeats; i++) {
        const floorOut = path.join(dataDir, 'bench', `floor-${startDate}.parquet`);
        await mkdir(path.dirname(floorOut), { recursive: true });
        floorMs.push(await oneStatement(csv, floorOut));
        await rm(floorOut, { force: true });

        // Memory is sampled every 100 ms while the run lasts; the cache is bypassed so extract runs.
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            peak = Math.max(peak, await processRssMb(worker.pid).catch(() => 0));
            await sleep(100);
          }
        })();
        const started = performance.now();
        const result = (await ctx.client.workflow.execute('ordersPipeline', {
          taskQueue,
          workflowId: `${taskQueue}-${rows}-${i}`,
          args: [{ ds: startDate, conf: { refresh_cache: true } }],
        })) as OrdersPipelineResult;
        flowMs.push(performance.now() - started);
        sampling = false;
        await sampler;
        if (result.rowsIn !== rows) throw new Error(`flow read ${result.rowsIn} rows of ${rows}`);
        for (const stage of STAGES) {
          const [task] = (await runTimings(ctx.client, `${taskQueue}-${rows}-${i}`, activityOf(stage))).tasks;
          if (task?.startedAt !== undefined && task.completedAt !== undefined) (stageMs[stage] ??= []).push(task.completedAt - task.startedAt);
        }
        ctx.say(
          `flow: ${rows.toLocaleString('en')} rows in ${(flowMs[i] / 1000).toFixed(2)} s (one statement ${(floorMs[i] / 1000).toFixed(2)} s), worker peak ${peak.toFixed(0)} MB`,
        );
      }
      peaks[rows] = peak;
      const label = `${rows / 1_000_000}M rows CSV to Parquet`;
      const value = median(flowMs);
      const floor = median(floorMs);
      figures.push({
        scenario: 'flow',
        measure: `orders-etl, ${label}`,
        value,
        unit: 'ms',
        spread: spread(flowMs),
        floor: { label: 'one DuckDB statement', value: floor },
        ratio: value / floor,
        ...(rows === 1_000_000 ? { target: '<= 1.5x', met: value / floor <= 1.5 } : {}),
      });
      for (const stage of STAGES) {
        if (stageMs[stage])
          figures.push({
            scenario: 'flow',
            measure: `orders-etl, ${label}: ${stage}`,
            value: median(stageMs[stage]),
            unit: 'ms',
            spread: spread(stageMs[stage]),
          });
      }
      figures.push({
        scenario: 'flow',
        measure: `orders-etl, ${label}: worker peak RSS`,
        value: peak,
        unit: 'MB',
        note: `the worker at rest: ${atRest.toFixed(0)} MB`,
      });
    }
    if (peaks[5_000_000] !== undefined) {
      const growth = peaks[5_000_000] / peaks[1_000_000];
      figures.push({
        scenario: 'flow',
        measure: 'orders-etl: worker peak RSS, 5M rows / 1M rows',
        value: growth,
        unit: 'x',
        target: '<= 1.10x',
        met: growth <= 1.1,
      });
    }
  } finally {
    await worker.stop();
  }
  return figures;
}
