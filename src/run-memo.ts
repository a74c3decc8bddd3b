/**
 * The task table a run keeps in its memo, so a page can show any run, going or finished, from one
 * visibility list and no query to a worker: each task's state, times, tries, key output and error.
 * Each task is a memo key of its own (`batonTask:<task_id>`), and the run upserts only the tasks
 * that changed, once per activation (workflows/task-table.ts): a run's history grows with its
 * changes, not with its table times its changes. Temporal merges the keys and returns them with
 * every listed execution. Bounded: a long error or output value is cut. Pure.
 */
import type { TaskRecord, TaskState } from './sdk/types';

/** The memo key of a task's record; the run's notes are under RUN_MEMO_NOTES. */
export const RUN_MEMO_PREFIX = 'batonTask:';
export const RUN_MEMO_NOTES = 'batonNotes';

const MAX_ERROR_CHARS = 1_000;
const MAX_VALUE_CHARS = 200;
const MAX_BATCHES = 20;

export interface RunMemo {
  tasks: TaskRecord[];
  /** Lines about the run (a mark, a depends_on_past that passed without a previous run). */
  notes?: string[];
}

const STATES: readonly TaskState[] = ['scheduled', 'queued', 'running', 'success', 'failed', 'skipped', 'upstream_failed'];

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A task's record as its memo key holds it: a long error or output value cut. */
export function memoRecord(t: TaskRecord): TaskRecord {
  return {
    ...t,
    ...(t.error ? { error: cut(t.error, MAX_ERROR_CHARS) } : {}),
    ...(t.output ? { output: Object.fromEntries(Object.entries(t.output).map(([k, v]) => [k, typeof v === 'string' ? cut(v, MAX_VALUE_CHARS) : v])) } : {}),
    ...(t.mapped ? { mapped: { ...t.mapped, batches: t.mapped.batches.slice(0, MAX_BATCHES) } } : {}),
  };
}

/** The memo's notes: the last 20, each cut. */
export const memoNotes = (notes: readonly string[]) => notes.slice(-20).map((n) => cut(n, MAX_VALUE_CHARS));

/** The memo keys for a whole table and its notes (what a run that changed everything upserts). */
export function runMemo(tasks: readonly TaskRecord[], notes: readonly string[] = []): Record<string, unknown> {
  return {
    ...Object.fromEntries(tasks.map((t) => [`${RUN_MEMO_PREFIX}${t.taskId}`, memoRecord(t)])),
    ...(notes.length ? { [RUN_MEMO_NOTES]: memoNotes(notes) } : {}),
  };
}

/** The task table in a listed execution's memo, in the order the run wrote it, or undefined for a run that keeps none (one started before runs kept it). */
export function readRunMemo(memo: Record<string, unknown> | undefined): RunMemo | undefined {
  if (!memo) return undefined;
  const tasks: TaskRecord[] = [];
  for (const [key, value] of Object.entries(memo)) {
    if (!key.startsWith(RUN_MEMO_PREFIX)) continue;
    const t = value as Partial<TaskRecord> | null;
    if (t && typeof t.taskId === 'string' && STATES.includes(t.state as TaskState)) tasks.push(t as TaskRecord);
  }
  if (!tasks.length) return undefined;
  const notes = memo[RUN_MEMO_NOTES];
  return { tasks, ...(Array.isArray(notes) ? { notes: notes.filter((n): n is string => typeof n === 'string') } : {}) };
}
