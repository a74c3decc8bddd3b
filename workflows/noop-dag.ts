/**
 * A DAG of N sequential no-op tasks whose definition comes with its input: the instrument
 * that measures what orchestration itself costs (benchmarks) and exercises scheduling
 * (max_active_runs, depends_on_past, timetables) without moving data.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DagRunInput, TaskRecord } from '../src/contracts';
import { temporalPriorityKey } from '../src/pools';
import { chain, runDag, type DagPolicy } from './dag';

export interface NoopDagInput extends DagRunInput {
  dag: DagPolicy;
  tasks?: number;
  taskSleepMs?: number;
  /** Task id that fails (tests of the failure paths). */
  failTask?: string;
}

export interface NoopDagResult {
  ds: string;
  /** The logical timestamp: what names a sub-daily DAG's run. */
  ts?: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  tasks: TaskRecord[];
  /** What the run noted above its task table (depends_on_past passing without a previous run). */
  notes: string[];
}

const noop = proxyActivities<Activities>({ startToCloseTimeout: '15m', retry: { maximumAttempts: 1 } });

export async function noopDag(input: NoopDagInput): Promise<NoopDagResult> {
  const taskIds = Array.from({ length: input.tasks ?? 7 }, (_, i) => `task_${i + 1}`);
  return runDag(input.dag, input, chain(...taskIds), async ({ ds, interval, tasks }) => {
    for (const taskId of taskIds) {
      const weight = input.dag.taskPools?.[taskId]?.priorityWeight;
      const options = weight === undefined ? {} : { priority: { priorityKey: temporalPriorityKey(weight) } };
      await tasks.run(taskId, () => noop.noopTask.executeWithOptions(options, [{ taskId, ds, sleepMs: input.taskSleepMs, fail: taskId === input.failTask }]));
    }
    return {
      ds,
      ts: interval.ts,
      dataIntervalStart: interval.dataIntervalStart,
      dataIntervalEnd: interval.dataIntervalEnd,
      tasks: tasks.list(),
      notes: tasks.listNotes(),
    };
  });
}
