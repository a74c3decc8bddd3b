/**
 * Clearing a run, as Airflow clears task instances: which tasks of a finished run run again
 * (a task, with what depends on it or what it depends on, only those that failed), and what
 * the run keeps of what it finished. The CLI says the plan before acting; the workflow keeps
 * the same records when it continues the run. Pure.
 */
import type { ClearRequest, MarkableState, TaskRecord, TaskState } from './contracts';

/** The states a cleared run keeps: the task finished. A task that did not (upstream_failed too) is evaluated again. */
export const KEPT_STATES: readonly TaskState[] = ['success', 'skipped', 'failed'];
/** Airflow's only_failed: what --failed-only clears. */
const FAILED_STATES: readonly TaskState[] = ['failed', 'upstream_failed'];

/** A task of the DAG as it is now: its id and its upstream task ids. */
export interface GraphTask {
  taskId: string;
  upstream: readonly string[];
}

export interface ClearSelection {
  /** A task id or a group's id; none: every task. */
  task?: string;
  downstream?: boolean;
  upstream?: boolean;
  failedOnly?: boolean;
  /** A mapped task's instances (by index) that run again. */
  mapIndexes?: readonly number[];
}

export interface ClearPlan {
  /** What the request names (ClearRequest.tasks). */
  selected: string[];
  /** Every task that runs again, in the DAG's order: the selected ones, and those that did not finish. */
  rerun: string[];
  /** What is kept as it was recorded. */
  kept: TaskRecord[];
  /** A mapped task's instances that run again (none: all of it). */
  instances?: Record<string, number[] | 'failed'>;
}

/** The tasks a `--task` names: the task, or every task of the group of that id. Refuses a name the DAG does not have. */
export function namedTasks(graph: readonly GraphTask[], task: string): string[] {
  const found = graph.filter((t) => t.taskId === task || t.taskId.startsWith(`${task}.`)).map((t) => t.taskId);
  if (!found.length) {
    const ids = graph.map((t) => t.taskId);
    throw new Error(`no task or group ${JSON.stringify(task)} in this DAG; its tasks are ${ids.join(', ')}`);
  }
  return found;
}

/** Every task reachable from `start` along the graph's edges, downstream or upstream. */
function reachable(graph: readonly GraphTask[], start: readonly string[], direction: 'downstream' | 'upstream'): Set<string> {
  const next = new Map<string, string[]>();
  for (const t of graph)
    for (const up of t.upstream) {
      const [from, to] = direction === 'downstream' ? [up, t.taskId] : [t.taskId, up];
      next.set(from, [...(next.get(from) ?? []), to]);
    }
  const found = new Set<string>();
  const visit = (id: string) => {
    for (const n of next.get(id) ?? [])
      if (!found.has(n)) {
        found.add(n);
        visit(n);
      }
  };
  start.forEach(visit);
  return found;
}

/**
 * Which tasks of a finished run a clear runs again, and what it keeps. Tasks of the run that
 * the DAG no longer has are dropped; tasks the DAG has gained run.
 */
export function planClear(graph: readonly GraphTask[], previous: readonly TaskRecord[], selection: ClearSelection): ClearPlan {
  const recorded = new Map(previous.map((t) => [t.taskId, t]));
  const named = selection.task === undefined ? graph.map((t) => t.taskId) : namedTasks(graph, selection.task);
  const chosen = new Set(named);
  if (selection.downstream) for (const id of reachable(graph, named, 'downstream')) chosen.add(id);
  if (selection.upstream) for (const id of reachable(graph, named, 'upstream')) chosen.add(id);
  let instances: ClearPlan['instances'];
  if (selection.mapIndexes?.length) {
    if (selection.task === undefined || named.length !== 1) throw new Error('--map-index needs --task naming one mapped task');
    const task = recorded.get(named[0]);
    if (!task?.mapped) throw new Error(`${named[0]} is not a mapped task of this run (it has no instances)`);
    const bad = selection.mapIndexes.filter((i) => !Number.isInteger(i) || i < 0 || i >= task.mapped!.total);
    if (bad.length) throw new Error(`--map-index ${bad.join(', ')}: ${named[0]} has instances 0 to ${task.mapped.total - 1}`);
    instances = { [named[0]]: [...new Set(selection.mapIndexes)].sort((a, b) => a - b) };
  }
  const selected = graph
    .map((t) => t.taskId)
    .filter((id) => chosen.has(id))
    .filter((id) => !selection.failedOnly || FAILED_STATES.includes(recorded.get(id)?.state ?? 'scheduled') || failedInstances(recorded.get(id)));
  // --failed-only on a mapped task whose instances failed: only those instances.
  if (selection.failedOnly && !instances)
    for (const id of selected) if (failedInstances(recorded.get(id))) instances = { ...(instances ?? {}), [id]: 'failed' };
  const request: Pick<ClearRequest, 'tasks'> = { tasks: selected };
  const kept = keptRecords(graph, previous, request);
  const keptIds = new Set(kept.map((t) => t.taskId));
  return { selected, rerun: graph.map((t) => t.taskId).filter((id) => !keptIds.has(id)), kept, ...(instances ? { instances } : {}) };
}

const failedInstances = (task: TaskRecord | undefined) => (task?.mapped?.failed ?? 0) > 0;

/**
 * What a continued run keeps of the execution it continues: each task the DAG still has that
 * finished there and is neither cleared nor marked. The workflow seeds its task table with these.
 */
export function keptRecords(graph: readonly GraphTask[], previous: readonly TaskRecord[], request: Pick<ClearRequest, 'tasks' | 'marks'>): TaskRecord[] {
  const ids = new Set(graph.map((t) => t.taskId));
  const cleared = new Set(request.tasks);
  return previous.filter((t) => ids.has(t.taskId) && !cleared.has(t.taskId) && !request.marks?.[t.taskId] && KEPT_STATES.includes(t.state));
}

/** A task set by hand, as the task table records it: its state and who set it. */
export function markedRecord(taskId: string, state: MarkableState, by: string, reason?: string): TaskRecord {
  return { taskId, state, output: { marked: `${state} by ${by}${reason ? `: ${reason}` : ''}`.slice(0, 200) } };
}
