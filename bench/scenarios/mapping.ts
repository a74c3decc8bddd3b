/**
 * Scenario 9, pipelines of pipelines:
 * - mapping: a DAG file's task mapped over 1,000 and 10,000 no-op items (expand, 50 at once, in
 *   batch workflows of 500): instances per second from the mapped task's start to its end;
 * - sub-daily: a month of an hourly DAG (720 runs) and a year of a daily one (365 runs), each a
 *   backfill of one-task runs 16 at a time through Baton's backfill workflow: runs per minute,
 *   the hourly month against the daily year.
 * Airflow 3's mapped tasks on the same machine are in the peers scenario (`--peers`).
 */
import { randomUUID } from 'node:crypto';
import { planBackfill, startBackfill, type BackfillRequest } from '../../src/backfill';
import type { BackfillProgress, TaskRecord } from '../../src/contracts';
import type { DagDefinition } from '../../src/dags';
import { engineMapped } from '../engine-dags';
import { startBenchWorker, type BenchContext, type Figure } from '../harness';
import { noopPolicy } from '../runs';

/** Instances of the mapped task running at once (the DAG's maxActive), and the worker's activity slots beside them. */
export const MAX_ACTIVE = 50;

interface MappedRun {
  items: number;
  /** The mapped task's start to end. */
  taskMs: number;
  /** The run's start to end. */
  runMs: number;
  batches: number;
}

export async function mappedRun(ctx: BenchContext, taskQueue: string, items: number): Promise<MappedRun> {
  const started = Date.now();
  const result = (await ctx.client.workflow.execute(engineMapped.dagId, {
    taskQueue,
    workflowId: `${taskQueue}-mapped-${items}-${randomUUID().slice(0, 6)}`,
    args: [{ ds: '2024-01-01', conf: { n: items } }],
  })) as { tasks: TaskRecord[] };
  const each = result.tasks.find((t) => t.taskId === 'each')!;
  if (each.state !== 'success' || each.mapped?.success !== items)
    throw new Error(`mapping: the mapped task ended ${each.state} (${JSON.stringify(each.mapped)})`);
  return { items, taskMs: each.durationMs ?? 0, runMs: Date.now() - started, batches: each.mapped.batches.length };
}

/** A no-op DAG of one task on `schedule`, its runs on the scenario's queue. */
function noopDag(dagId: string, schedule: string, taskQueue: string): DagDefinition {
  const policy = { ...noopPolicy(dagId), schedule };
  return { ...policy, workflowType: 'noopDag', catchup: false, taskQueue, runArgs: { dag: policy, tasks: 1 } };
}

async function backfillRate(ctx: BenchContext, dag: DagDefinition, from: string, to: string): Promise<{ runs: number; ms: number }> {
  const request: BackfillRequest = { from, to, maxActive: 16, rerun: 'all', reverse: false };
  const dates = planBackfill(dag, request);
  const started = Date.now();
  const progress = (await (await startBackfill(ctx.client, dag, request, dates)).result()) as BackfillProgress;
  if (progress.succeeded !== dates.length) throw new Error(`mapping: ${dag.dagId}'s backfill: ${progress.succeeded} of ${dates.length} runs succeeded`);
  return { runs: dates.length, ms: Date.now() - started };
}

export async function mappingScenario(ctx: BenchContext): Promise<Figure[]> {
  const sizes = ctx.quick ? [100] : [1_000, 10_000];
  const taskQueue = `bench-mapping-${randomUUID().slice(0, 8)}`;
  const worker = await startBenchWorker(ctx, taskQueue, MAX_ACTIVE + 10);
  const figures: Figure[] = [];
  try {
    if (!ctx.quick) await mappedRun(ctx, taskQueue, 20); // warm-up: the batch workflow's first run loads its code
    for (const items of sizes) {
      ctx.say(`mapping: a task mapped over ${items.toLocaleString('en')} no-op items, ${MAX_ACTIVE} at once`);
      const r = await mappedRun(ctx, taskQueue, items);
      figures.push({
        scenario: 'mapping',
        measure: `a task mapped over ${items.toLocaleString('en')} no-op items, ${MAX_ACTIVE} at once: instances per second`,
        value: items / (r.taskMs / 1000),
        unit: 'instances/s',
        note: `the mapped task ${(r.taskMs / 1000).toFixed(1)} s in ${r.batches} batch workflow(s), the run ${(r.runMs / 1000).toFixed(1)} s; Airflow 3's mapped tasks: --peers`,
      });
    }
    const id = randomUUID().slice(0, 6);
    const hourly = noopDag(`bench_hourly_${id}`, '0 * * * *', taskQueue);
    const daily = noopDag(`bench_daily_${id}`, '0 6 * * *', taskQueue);
    ctx.say(
      ctx.quick
        ? 'mapping: an hourly DAG backfilled for 3 hours, a daily one for 3 days'
        : "mapping: an hourly DAG's month (720 runs) and a daily DAG's year (365 runs), 16 at a time",
    );
    const h = await backfillRate(ctx, hourly, ctx.quick ? '2042-11-01T00:00:00Z' : '2042-11-01', ctx.quick ? '2042-11-01T02:00:00Z' : '2042-11-30');
    const d = await backfillRate(ctx, daily, '2043-01-01', ctx.quick ? '2043-01-03' : '2043-12-31');
    const perMinute = (r: { runs: number; ms: number }) => r.runs / (r.ms / 60_000);
    figures.push({
      scenario: 'mapping',
      measure: `an hourly DAG's backfill of ${h.runs} runs (<dag_id>-<ts>), 16 at a time: runs per minute`,
      value: perMinute(h),
      unit: 'runs/min',
      floor: { label: `a daily DAG's backfill of ${d.runs} runs, the same way`, value: perMinute(d) },
      ratio: perMinute(h) / perMinute(d),
      note: `${(h.ms / 1000).toFixed(1)} s against ${(d.ms / 1000).toFixed(1)} s; higher is better`,
    });
  } finally {
    await worker.stop();
  }
  return figures;
}
