/**
 * A run's task table as `baton runs show` prints it: a group's tasks (`load.region_eu`,
 * `load.eu.orders`) folded into one line under the group's id, and so are the instances of a
 * task (`transform[3]`), with how many of them are in each state; `--all` shows each task. Pure.
 */
import type { TaskRecord, TaskState } from './contracts';
import { instanceId, type MappedInstance } from './mapping';

/** The line a task folds into: its outermost group's id, or its name without an instance's `[index]`. */
export function foldKey(taskId: string): string {
  return taskId.split('.')[0].replace(/\[\d+\]$/, '');
}

/** One line of the table: a task of its own, or the tasks that fold into one id, counted by state. */
export type TaskLine = { kind: 'task'; task: TaskRecord } | { kind: 'folded'; id: string; states: Array<[TaskState, number]> };

/** The order a folded line counts its states in: how it went first, then what is still to come. */
const STATES: readonly TaskState[] = ['success', 'failed', 'upstream_failed', 'skipped', 'running', 'queued', 'scheduled'];

/** The table's lines in the order of the tasks, a folded line where its first task is. */
export function foldTasks(tasks: readonly TaskRecord[]): TaskLine[] {
  const byKey = new Map<string, TaskRecord[]>();
  for (const task of tasks) {
    const key = foldKey(task.taskId);
    byKey.set(key, [...(byKey.get(key) ?? []), task]);
  }
  return [...byKey].map(([id, members]): TaskLine => {
    // (Unless the task failed after its instances all succeeded, its outputs too large: then its own line says why.)
    const own = members.length === 1 && members[0].taskId === id ? members[0] : undefined;
    const mapped = own?.mapped && !(own.state === 'failed' && own.mapped.failed === 0) ? own.mapped : undefined;
    // A mapped task that ran: its instances, counted by how they ended.
    if (mapped)
      return {
        kind: 'folded',
        id,
        states: STATES.flatMap((state): Array<[TaskState, number]> =>
          state === 'success' && mapped.success ? [[state, mapped.success]] : state === 'failed' && mapped.failed ? [[state, mapped.failed]] : [],
        ),
      };
    if (members.length === 1 && members[0].taskId === id) return { kind: 'task', task: members[0] };
    const states = STATES.flatMap((state): Array<[TaskState, number]> => {
      const count = members.filter((t) => t.state === state).length;
      return count ? [[state, count]] : [];
    });
    return { kind: 'folded', id, states };
  });
}

/** The lines `baton runs show` prints for a task table: folded, or with `all` each task on its own. */
export function taskTableLines(tasks: readonly TaskRecord[], options: { all?: boolean } = {}): string[] {
  const lines: TaskLine[] = options.all ? tasks.map((task) => ({ kind: 'task', task })) : foldTasks(tasks);
  const width = Math.max(18, ...lines.map((l) => (l.kind === 'task' ? l.task.taskId : l.id).length));
  return lines.map((line) => {
    if (line.kind === 'folded') return `  ${line.id.padEnd(width)} ${line.states.map(([state, n]) => `${state} ${n}`).join('  ')}`;
    const t = line.task;
    const duration = t.durationMs === undefined ? '' : `${(t.durationMs / 1000).toFixed(1)}s`;
    const detail = t.error
      ? `error: ${t.error}`
      : Object.entries(t.output ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
    return `  ${t.taskId.padEnd(width)} ${t.state.padEnd(15)} ${(t.startedAt ?? '').slice(11, 19).padEnd(8)} ${duration.padStart(7)}  ${detail}`.trimEnd();
  });
}

/** A mapped task's instances as task records (`touch[3]`, its label as its output), from its batches' outcomes. */
export function instanceRecords(taskId: string, instances: readonly MappedInstance[]): TaskRecord[] {
  return instances.map((i) => ({
    taskId: instanceId(taskId, i.index),
    state: i.state,
    ...(i.startedAt ? { startedAt: i.startedAt } : {}),
    ...(i.durationMs !== undefined ? { durationMs: i.durationMs } : {}),
    ...(i.label !== undefined || i.reused ? { output: { ...(i.label !== undefined ? { label: i.label } : {}), ...(i.reused ? { reused: 'yes' } : {}) } } : {}),
    ...(i.error ? { error: i.error } : {}),
  }));
}
