/**
 * The task table a run keeps in its memo, so a page can show any run, going or finished, from one
 * visibility list and no query to a worker: each task's state, times, tries, key output and error.
 * The run upserts it when its table changes (workflows/task-table.ts); Temporal returns it with
 * every listed execution. Bounded: a long error is cut, and a table too large for a memo keeps
 * only its states. Pure.
 */
import type { TaskRecord, TaskState } from './sdk/types';

/** The memo key the task table is kept under. */
export const RUN_MEMO_KEY = 'batonTasks';

/** The largest table kept whole; above it the memo keeps each task's state and times only. */
export const MAX_RUN_MEMO_BYTES = 96 * 1024;
const MAX_ERROR_CHARS = 1_000;
const MAX_VALUE_CHARS = 200;

export interface RunMemo {
  v: 1;
  tasks: TaskRecord[];
  /** Lines about the run (a mark, a depends_on_past that passed without a previous run). */
  notes?: string[];
  /** The table was too large to keep whole: outputs and errors are left out. */
  truncated?: true;
}

const STATES: readonly TaskState[] = ['scheduled', 'queued', 'running', 'success', 'failed', 'skipped', 'upstream_failed'];

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The memo for a run's table and notes. */
export function runMemo(tasks: readonly TaskRecord[], notes: readonly string[] = []): RunMemo {
  const whole: RunMemo = {
    v: 1,
    tasks: tasks.map((t) => ({
      ...t,
      ...(t.error ? { error: cut(t.error, MAX_ERROR_CHARS) } : {}),
      ...(t.output ? { output: Object.fromEntries(Object.entries(t.output).map(([k, v]) => [k, typeof v === 'string' ? cut(v, MAX_VALUE_CHARS) : v])) } : {}),
      ...(t.mapped ? { mapped: { ...t.mapped, batches: t.mapped.batches.slice(0, 20) } } : {}),
    })),
    ...(notes.length ? { notes: notes.slice(-20).map((n) => cut(n, MAX_VALUE_CHARS)) } : {}),
  };
  if (JSON.stringify(whole).length <= MAX_RUN_MEMO_BYTES) return whole;
  return {
    v: 1,
    tasks: tasks.map((t) => ({
      taskId: t.taskId,
      state: t.state,
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
      ...(t.durationMs !== undefined ? { durationMs: t.durationMs } : {}),
    })),
    truncated: true,
  };
}

/** The task table in a listed execution's memo, or undefined for a run that keeps none (one started before runs kept it). */
export function readRunMemo(memo: Record<string, unknown> | undefined): RunMemo | undefined {
  const value = memo?.[RUN_MEMO_KEY] as Partial<RunMemo> | undefined;
  if (!value || value.v !== 1 || !Array.isArray(value.tasks)) return undefined;
  const tasks = value.tasks.filter((t): t is TaskRecord => !!t && typeof t.taskId === 'string' && STATES.includes(t.state));
  return {
    v: 1,
    tasks,
    ...(Array.isArray(value.notes) ? { notes: value.notes.filter((n) => typeof n === 'string') } : {}),
    ...(value.truncated ? { truncated: true } : {}),
  };
}
