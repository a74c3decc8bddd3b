/** Workflows that drive a TaskTable through branches, joins, skips and failures: the DAG toolkit under test. */
import { chain, TaskTable, type TriggerRule } from '../../workflows/dag';
import type { TaskState } from '../../src/contracts';

export interface TaskTableProbeInput {
  /** The branch choose takes: `left`, `right` or none (both skipped). */
  branch?: 'left' | 'right';
  joinRule?: TriggerRule;
  /** A task whose work throws. */
  fail?: string;
  /** A task whose result is turned into a skip (a soft-failed sensor). */
  softSkip?: string;
  /** Run this task out of turn: the table must refuse. */
  runEarly?: string;
}

/**   choose >> [left, right] >> join >> after   */
export async function taskTableProbe(input: TaskTableProbeInput): Promise<{ states: Record<string, TaskState>; error?: string }> {
  const tasks = new TaskTable([
    { taskId: 'choose' },
    { taskId: 'left', upstream: ['choose'] },
    { taskId: 'right', upstream: ['choose'] },
    { taskId: 'join', upstream: ['left', 'right'], triggerRule: input.joinRule ?? 'none_failed_min_one_success' },
    ...chain('join', 'after').slice(1),
  ]);
  const work = (taskId: string) => async () => {
    if (taskId === input.fail) throw new Error(`${taskId} broke`);
    return taskId;
  };
  const skipWhen = (taskId: string) => (taskId === input.softSkip ? `${taskId} timed out (soft_fail)` : undefined);
  let error: string | undefined;
  try {
    if (input.runEarly) await tasks.run(input.runEarly, work(input.runEarly));
    await tasks.run('choose', work('choose'), undefined, { skipWhen });
    for (const side of ['left', 'right'] as const) {
      if (side === input.branch && tasks.ready(side)) await tasks.run(side, work(side), undefined, { skipWhen });
      else if (tasks.state(side) === 'scheduled') tasks.skip(side);
    }
    for (const taskId of ['join', 'after']) if (tasks.ready(taskId)) await tasks.run(taskId, work(taskId));
  } catch (err) {
    error = (err as Error).message;
  }
  return { states: Object.fromEntries(tasks.list().map((t) => [t.taskId, t.state])), ...(error ? { error } : {}) };
}
