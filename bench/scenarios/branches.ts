/**
 * Parallel branches: a DAG file of two independent branches of 5 no-op tasks each against one
 * branch of 5, both run by the DAG engine, which starts every ready task at once; beside them,
 * the hand-written noopDag running 10 tasks and 5 one after another (what two branches cost
 * before the engine: twice one). Runs take turns, in a turning order, on one worker; every time
 * comes from the runs' histories. The history also shows the overlap: each two-branch run's
 * first tasks scheduled by one workflow task.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { percentile, startBenchWorker, type BenchContext, type Figure } from '../harness';
import { engineOneBranch, engineTwoBranches } from '../engine-dags';
import { noopPolicy } from '../runs';
import { isNoopTask, profileRun } from './overhead';

const SLOTS = 10;
const KINDS = ['two', 'one', 'hand10', 'hand5'] as const;
type Kind = (typeof KINDS)[number];
const TASKS: Record<Kind, number> = { two: 10, one: 5, hand10: 10, hand5: 5 };

async function runOnce(ctx: BenchContext, taskQueue: string, kind: Kind, workflowId: string): Promise<void> {
  const ds = '2024-01-01';
  if (kind === 'two' || kind === 'one') {
    const dagId = kind === 'two' ? engineTwoBranches.dagId : engineOneBranch.dagId;
    await ctx.client.workflow.execute(dagId, { taskQueue, workflowId, args: [{ ds }] });
  } else {
    await ctx.client.workflow.execute('noopDag', { taskQueue, workflowId, args: [{ ds, dag: noopPolicy('bench_branches'), tasks: TASKS[kind] }] });
  }
}

/** Whether the two branches' first tasks were scheduled by the same workflow task. */
async function startedTogether(client: Client, workflowId: string): Promise<boolean> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const byTask = new Map<string, string>();
  for (const e of events) {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a || !isNoopTask(a.activityType?.name)) continue;
    const taskId = (a.input?.payloads?.[0]?.data ? JSON.parse(Buffer.from(a.input.payloads[0].data).toString()).taskId : undefined) as string | undefined;
    if (taskId) byTask.set(taskId, String(a.workflowTaskCompletedEventId));
  }
  return byTask.get('a_1') !== undefined && byTask.get('a_1') === byTask.get('b_1');
}

export async function branchesScenario(ctx: BenchContext): Promise<Figure[]> {
  const count = ctx.quick ? 6 : 60;
  const taskQueue = `bench-branches-${randomUUID().slice(0, 8)}`;
  const worker = await startBenchWorker(ctx, taskQueue, SLOTS);
  const runMs: Record<Kind, number[]> = { two: [], one: [], hand10: [], hand5: [] };
  let together = 0;
  try {
    for (const kind of KINDS) await runOnce(ctx, taskQueue, kind, `${taskQueue}-warmup-${kind}`);
    ctx.say(`branches: ${count} runs each of two branches of 5 no-op tasks and one branch (DAG engine), and noopDag's 10 and 5 tasks`);
    for (let i = 0; i < count; i++) {
      for (const kind of KINDS.map((_, k) => KINDS[(k + i) % KINDS.length])) {
        const workflowId = `${taskQueue}-${kind}-${i}`;
        await runOnce(ctx, taskQueue, kind, workflowId);
        runMs[kind].push((await profileRun(ctx.client, workflowId, TASKS[kind])).runMs);
        if (kind === 'two' && (await startedTogether(ctx.client, workflowId))) together++;
      }
    }
  } finally {
    await worker.stop();
  }
  const p50 = (kind: Kind) => percentile(runMs[kind], 50);
  const spread = (kind: Kind): [number, number] => [Math.min(...runMs[kind]), Math.max(...runMs[kind])];
  const ratio = p50('two') / p50('one');
  const before = p50('hand10') / p50('hand5');
  ctx.say(
    `branches: two branches ${p50('two')} ms, one ${p50('one')} ms (${ratio.toFixed(2)}x); hand-written 10 tasks ${p50('hand10')} ms, 5 ${p50('hand5')} ms`,
  );
  return [
    {
      scenario: 'branches',
      measure: 'DAG engine: two independent branches of 5 no-op tasks, run time p50',
      value: p50('two'),
      unit: 'ms',
      spread: spread('two'),
      floor: { label: 'one branch of 5', value: p50('one') },
      ratio,
      target: '<= 1.3x',
      met: ratio <= 1.3,
    },
    {
      scenario: 'branches',
      measure: 'hand-written noopDag: the same 10 tasks one after another, run time p50',
      value: p50('hand10'),
      unit: 'ms',
      spread: spread('hand10'),
      floor: { label: 'its 5 tasks', value: p50('hand5') },
      ratio: before,
    },
    {
      scenario: 'branches',
      measure: "two-branch runs whose branches' first tasks one workflow task scheduled",
      value: (100 * together) / count,
      unit: '%',
      note: `${together} of ${count}`,
    },
  ];
}
