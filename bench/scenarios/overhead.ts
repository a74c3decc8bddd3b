/**
 * Issue 7, scenarios 1 and 2: what orchestration itself costs. A 7-task DAG of no-op
 * activities (noopDag), run one after another (run time, and the gap between one task's end
 * and the next task's start), then many at once (runs per second). The floor is the same 7
 * no-op activities in a bare workflow without Baton's DAG machinery (benchRawSequence), on
 * the same worker, measured in the same run: Baton's figures are read as ratios to it. The DAG
 * engine runs the same 7 tasks as a DAG file (bench/engine-dags.ts) in the same turns, and its
 * figures are read as ratios to the hand-written noopDag it replaces.
 * Every time comes from the runs' histories, so the client's own latency is not in it.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { percentile, startBenchWorker, type BenchContext, type Figure } from '../harness';
import { engineChain, NOOP_ACTIVITY } from '../engine-dags';
import { noopPolicy } from '../runs';

const EventType = temporal.api.enums.v1.EventType;
const TASKS = 7;
const SLOTS = 10;
/** noopDag (Baton's hand-written workflow), the DAG engine running the same chain as a DAG file, and the bare floor. */
const KINDS = ['baton', 'engine', 'raw'] as const;
type Kind = (typeof KINDS)[number];
/** The no-op activity: noopDag's and the floor's, or a DAG file's own task of it (`<dag_id>.noopTask`). */
export const isNoopTask = (name: string | null | undefined) => name === NOOP_ACTIVITY || !!name?.endsWith(`.${NOOP_ACTIVITY}`);

/** One run read back from its history. */
interface RunProfile {
  /** WorkflowExecutionStarted to the last event. */
  runMs: number;
  /** WorkflowExecutionStarted to the first task's start: the run's set-up. */
  firstTaskMs: number;
  /** Per task after the first, the time from the previous task's end to its start, and its parts. */
  gaps: Array<{
    total: number;
    /** Previous task's end to the workflow task's start: the workflow task waiting for the worker. */
    wftWait: number;
    /** Workflow task started to completed: the worker's workflow code and the round trip that schedules the task. */
    wftRun: number;
    /** Task scheduled to started: the activity waiting to be dispatched. */
    activityWait: number;
  }>;
}

export async function profileRun(client: Client, workflowId: string, tasks = TASKS): Promise<RunProfile> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const time = (e: (typeof events)[number]) => tsToMs(e.eventTime);
  const startedAt = time(events[0]);
  let wftScheduled = 0;
  let wftStarted = 0;
  let wftCompleted = 0;
  let lastCompleted: number | undefined;
  const scheduled = new Map<number, { scheduledAt: number; wftScheduled: number; wftStarted: number; wftCompleted: number; previousEnd?: number }>();
  const gaps: RunProfile['gaps'] = [];
  let firstTaskMs = NaN;
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wftScheduled = time(e);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        wftStarted = time(e);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        wftCompleted = time(e);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        if (isNoopTask(e.activityTaskScheduledEventAttributes?.activityType?.name)) {
          scheduled.set(Number(e.eventId), { scheduledAt: time(e), wftScheduled, wftStarted, wftCompleted, previousEnd: lastCompleted });
        }
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        // The started event is written when the task ends, with the time it really started.
        const task = scheduled.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (!task) break;
        const started = time(e);
        if (task.previousEnd === undefined) firstTaskMs = started - startedAt;
        else {
          gaps.push({
            total: started - task.previousEnd,
            wftWait: task.wftStarted - task.previousEnd,
            wftRun: task.wftCompleted - task.wftStarted,
            activityWait: started - task.scheduledAt,
          });
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        if (scheduled.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId))) lastCompleted = time(e);
        break;
    }
  }
  if (scheduled.size !== tasks) throw new Error(`${workflowId}: ${scheduled.size} no-op tasks in its history, expected ${tasks}`);
  return { runMs: time(events[events.length - 1]) - startedAt, firstTaskMs, gaps };
}

/** Runs `count` workflows of a kind, `concurrency` at a time; returns their ids and the wall time from the first start to the last result. */
async function runMany(
  ctx: BenchContext,
  taskQueue: string,
  kind: Kind,
  prefix: string,
  count: number,
  concurrency: number,
): Promise<{ ids: string[]; wallMs: number }> {
  const ids = Array.from({ length: count }, (_, i) => `${taskQueue}-${prefix}-${kind}-${i}`);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < ids.length) {
        const workflowId = ids[next++];
        if (kind === 'baton') {
          await ctx.client.workflow.execute('noopDag', {
            taskQueue,
            workflowId,
            args: [{ ds: '2024-01-01', dag: noopPolicy('bench_overhead'), tasks: TASKS }],
          });
        } else if (kind === 'engine') {
          await ctx.client.workflow.execute(engineChain.dagId, { taskQueue, workflowId, args: [{ ds: '2024-01-01' }] });
        } else {
          await ctx.client.workflow.execute('benchRawSequence', { taskQueue, workflowId, args: [{ ds: '2024-01-01', tasks: TASKS }] });
        }
      }
    }),
  );
  return { ids, wallMs: performance.now() - started };
}

async function profileAll(client: Client, ids: string[]): Promise<RunProfile[]> {
  const profiles: RunProfile[] = [];
  for (let i = 0; i < ids.length; i += 10) profiles.push(...(await Promise.all(ids.slice(i, i + 10).map((id) => profileRun(client, id)))));
  return profiles;
}

/** Each kind `rounds` times, the order turning each round (floor, Baton, engine; Baton, engine, floor; ...). */
const roundOrder = (rounds: number): Kind[] => Array.from({ length: rounds }, (_, r) => KINDS.map((_, i) => KINDS[(i + r) % KINDS.length])).flat();

const range = (values: number[]): [number, number] | undefined => (values.length > 1 ? [Math.min(...values), Math.max(...values)] : undefined);

export async function overheadScenario(ctx: BenchContext): Promise<Figure[]> {
  const sequential = ctx.quick ? 10 : 200;
  const [burst, atOnce, rounds] = ctx.quick ? [20, 10, 1] : [500, 50, 4];
  const warmup = ctx.quick ? 2 : 5;
  const taskQueue = `bench-overhead-${randomUUID().slice(0, 8)}`;
  const worker = await startBenchWorker(ctx, taskQueue, SLOTS);
  const seq: Record<Kind, RunProfile[]> = { baton: [], engine: [], raw: [] };
  const many: Record<Kind, { profiles: RunProfile[]; wallMs: number; rates: number[] }> = {
    baton: { profiles: [], wallMs: 0, rates: [] },
    engine: { profiles: [], wallMs: 0, rates: [] },
    raw: { profiles: [], wallMs: 0, rates: [] },
  };
  try {
    // Warm-up, not counted: the worker's workflow cache, its connections, the server's task queue.
    for (const kind of KINDS) await runMany(ctx, taskQueue, kind, 'warmup', warmup, 1);

    // 1. One run after another, the three taking turns (in a turning order) so all see the same noise.
    ctx.say(`overhead: ${sequential} sequential runs of a ${TASKS}-task no-op DAG, hand-written and as a DAG file, and as many of the bare floor workflow`);
    for (let i = 0; i < sequential; i++) {
      for (const kind of KINDS.map((_, k) => KINDS[(k + i) % KINDS.length])) {
        const { ids } = await runMany(ctx, taskQueue, kind, `seq${i}`, 1, 1);
        seq[kind].push(await profileRun(ctx.client, ids[0]));
      }
    }
    for (const kind of KINDS) {
      const p = seq[kind];
      ctx.say(
        `overhead: ${kind}: run p50 ${percentile(runs(p), 50)} ms, gap p50 ${percentile(gaps(p, 'total'), 50)} ms (workflow task wait ${percentile(gaps(p, 'wftWait'), 50)}, run ${percentile(gaps(p, 'wftRun'), 50)}, activity wait ${percentile(gaps(p, 'activityWait'), 50)})`,
      );
    }

    // 2. Throughput: many runs, a fixed number at once, in rounds taking turns with the floor
    // (floor, Baton, Baton, floor, ...), so a change in the machine's load hits both alike.
    for (const [round, kind] of roundOrder(rounds).entries()) {
      ctx.say(`overhead: round ${round + 1} of ${rounds * KINDS.length}: ${burst / rounds} ${kind} runs, ${atOnce} at once`);
      const { ids, wallMs } = await runMany(ctx, taskQueue, kind, `burst${round}`, burst / rounds, atOnce);
      many[kind].profiles.push(...(await profileAll(ctx.client, ids)));
      many[kind].wallMs += wallMs;
      many[kind].rates.push(burst / rounds / (wallMs / 1000));
    }
    for (const kind of KINDS) ctx.say(`overhead: ${kind}: ${(burst / (many[kind].wallMs / 1000)).toFixed(1)} runs/s`);
  } finally {
    await worker.stop();
  }

  const figures: Figure[] = [];
  const scenario = 'overhead';
  const floorLabel = 'bare workflow';
  /** A figure beside the same figure of its floor; a target is a bound on the value or on the ratio. */
  const beside =
    (label: string) =>
    (measure: string, unit: string, values: number[], floorValues: number[], p: number, target?: { max: number } | { maxRatio: number }): Figure => {
      const value = percentile(values, p);
      const floor = percentile(floorValues, p);
      const bound =
        target &&
        ('max' in target
          ? { target: `<= ${target.max} ${unit}`, met: value <= target.max }
          : { target: `<= ${target.maxRatio}x`, met: value / floor <= target.maxRatio });
      return { scenario, measure, value, unit, spread: range(values), floor: { label, value: floor }, ratio: value / floor, ...bound };
    };
  /** A Baton figure beside the same figure of the floor workflow. */
  const vs = beside(floorLabel);
  const s = seq.baton;
  const r = seq.raw;
  const seqLabel = `${sequential} sequential runs`;
  figures.push(vs(`${seqLabel}: run time, p50`, 'ms', runs(s), runs(r), 50, { max: 150 }));
  figures.push(vs(`${seqLabel}: run time, p95`, 'ms', runs(s), runs(r), 95));
  figures.push(vs(`${seqLabel}: task end to next task start, p50`, 'ms', gaps(s, 'total'), gaps(r, 'total'), 50, { max: 20 }));
  figures.push(vs(`${seqLabel}: task end to next task start, p95`, 'ms', gaps(s, 'total'), gaps(r, 'total'), 95));
  // Where the gap goes; parts of a few milliseconds make ratios meaningless, so they have none.
  const part = (measure: string, key: keyof RunProfile['gaps'][number], note: string): Figure => {
    const { ratio: _ratio, ...figure } = vs(`${seqLabel}: gap part: ${measure}, p50`, 'ms', gaps(s, key), gaps(r, key), 50);
    return { ...figure, note };
  };
  figures.push(part('workflow task waits for the worker', 'wftWait', 'task end to workflow task started'));
  figures.push(part('workflow task runs', 'wftRun', 'workflow task started to completed (next task scheduled)'));
  figures.push(part('next task waits for dispatch', 'activityWait', 'activity scheduled to started'));
  figures.push(
    vs(
      `${seqLabel}: run start to first task start, p50`,
      'ms',
      s.map((p) => p.firstTaskMs),
      r.map((p) => p.firstTaskMs),
      50,
    ),
  );

  // The DAG engine beside the hand-written workflow it replaces: the same 7 no-op tasks.
  const handWritten = beside('hand-written noopDag');
  const e = seq.engine;
  figures.push(handWritten(`${seqLabel}: DAG engine run time, p50`, 'ms', runs(e), runs(s), 50, { maxRatio: 1.1 }));
  figures.push(handWritten(`${seqLabel}: DAG engine task end to next task start, p50`, 'ms', gaps(e, 'total'), gaps(s, 'total'), 50, { maxRatio: 1.1 }));
  figures.push(handWritten(`${seqLabel}: DAG engine run time, p95`, 'ms', runs(e), runs(s), 95));

  const burstLabel = `${burst} runs, ${atOnce} at once`;
  const rate = (kind: Kind) => burst / (many[kind].wallMs / 1000);
  figures.push({
    scenario,
    measure: `${burstLabel}: runs per second`,
    value: rate('baton'),
    unit: 'runs/s',
    spread: range(many.baton.rates),
    floor: { label: floorLabel, value: rate('raw') },
    ratio: rate('baton') / rate('raw'),
    note: `first start to last result, as the client sees it; ${rounds} rounds each, taking turns with the floor`,
  });
  figures.push(vs(`${burstLabel}: run time, p50`, 'ms', runs(many.baton.profiles), runs(many.raw.profiles), 50));
  figures.push(vs(`${burstLabel}: run time, p95`, 'ms', runs(many.baton.profiles), runs(many.raw.profiles), 95));
  figures.push(vs(`${burstLabel}: task end to next task start, p50`, 'ms', gaps(many.baton.profiles, 'total'), gaps(many.raw.profiles, 'total'), 50));
  figures.push({
    scenario,
    measure: `${burstLabel}: DAG engine runs per second`,
    value: rate('engine'),
    unit: 'runs/s',
    spread: range(many.engine.rates),
    floor: { label: 'hand-written noopDag', value: rate('baton') },
    ratio: rate('engine') / rate('baton'),
  });
  figures.push(handWritten(`${burstLabel}: DAG engine run time, p50`, 'ms', runs(many.engine.profiles), runs(many.baton.profiles), 50));
  return figures;
}

const runs = (profiles: RunProfile[]) => profiles.map((p) => p.runMs);
const gaps = (profiles: RunProfile[], part: keyof RunProfile['gaps'][number]) => profiles.flatMap((p) => p.gaps.map((g) => g[part]));
