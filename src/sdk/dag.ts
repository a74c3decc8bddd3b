/**
 * How a DAG file is written: `dag(settings, build)`, where `build` declares the tasks, each an
 * operator called with its task id and settings, in the order the file reads (Airflow's
 * `with DAG(...):` block). An operator returns a reference to its task's output: pass it (or
 * a field of it) to the tasks that read it, in args, inputs or a template string, and tsc
 * checks the read against the output's type while the edge follows from it. `upstream` is for
 * edges that carry no data. Groups of tasks (`group(id, () => ...)`, Airflow's TaskGroup) are
 * in group.ts, and the DAG being built, which tasks are declared into, in building.ts. What
 * `dag` returns is the DAG as data (types.ts), which the engine (workflows/engine.ts) runs and
 * `baton dags validate` checks. The operators' builders (`sql(...)`, `loadCsv(...)`) are in
 * their folders (src/operators/<name>/definition.ts) and declare their tasks here. Pure: bundled into the workflow sandbox.
 */
import type { z } from 'zod';
import type { OwnTaskBuilder } from '../operators/task/definition';
import { isMarker, makeRef, toMarkers, type Inputs, type InputValues, type Ref, type RefMarker } from './refs';
import { resolveMarker } from './templates';
import type { TaskContext } from '../task/context';
import type * as data from './types';
import { BUILD, building as current, whileBuilding, type AnyTask, type Building } from './building';
import { upstreamIds, type Upstream } from './group';

export type { NoInputs, TaskOf } from './building';
export type { Group, GroupSettings, Upstream } from './group';
export { group } from './group';

/** What a task's functions (choose, condition, skipIf, args, a result) see of the run besides their inputs. */
export interface Run {
  dagId: string;
  ds: string;
  ds_nodash: string;
  /** The logical timestamp, `2024-01-15T13:00:00+00:00`: the data interval's start (a sub-daily run's name). */
  ts: string;
  ts_nodash: string;
  data_interval_start: string;
  data_interval_end: string;
  /** The run's conf as given (params, typed, are read as inputs). */
  conf: Readonly<Record<string, unknown>>;
  /** Each finished task's state: success, failed, skipped, upstream_failed. */
  states: Readonly<Record<string, string>>;
  /** Each cached task's cache outcome: hit, miss, expired, vanished or refresh. */
  cached: Readonly<Record<string, string>>;
}

/** A task of one's own, as a callback: `onFailure: own.pageTheTeam` (it gets `{ event, message }` as its args). */
export type TaskCallback = { notify: readonly string[] } | OwnTaskBuilder<(args: { event: string; message: string }, context: TaskContext) => unknown>;

/** What every task takes besides its operator's settings. */
export interface TaskSettings<I extends Inputs, O> extends Omit<data.TaskOptions, 'onFailure' | 'onRetry' | 'onSuccess'> {
  /** Tasks (or groups: their leaves) this one runs after without reading their output (a read makes the edge by itself). */
  upstream?: readonly Upstream[];
  /** Upstream outputs (or params) its functions read, by name: `inputs: { staged: extract }`. */
  inputs?: I;
  /** `all_success` by default. */
  triggerRule?: data.TriggerRule;
  /** Runs once everything upstream is done, whatever happened (and a setup it follows succeeded); its failure does not fail the run. */
  teardown?: boolean;
  /** Makes what the tasks after it use; a teardown downstream pairs with it, and its failure fails the tasks in its scope. */
  setup?: boolean;
  /** What the task does (templated): its line in the Web UI and in `baton dags show`. */
  doc?: string;
  /** The assets it updates (Airflow's outlets): announced for the run's partition when it succeeds. */
  outlets?: readonly string[];
  /** Skips the task when it returns a reason (Airflow's @task.skip_if). */
  skipIf?: (inputs: InputValues<I>, run: Run) => string | false | undefined;
  /** What the task table and the Web UI show of its output; its scalar fields by default. */
  summary?: (output: O) => Record<string, string | number>;
  onFailure?: TaskCallback;
  onRetry?: TaskCallback;
  onSuccess?: TaskCallback;
}

type Own<T> = Omit<T, keyof data.TaskBase | 'operator'>;
/** An operator's settings in a DAG file: its task's own settings (T, as data) and what every task takes. */
export type Settings<T, I extends Inputs, O> = Own<T> & TaskSettings<I, O>;
/**
 * The settings of a task that decides with a function of its inputs and the run, its `F`
 * returning R (branch's `choose`, shortCircuit's `condition`); as data, the function takes the
 * run's context.
 */
export type DecidingSettings<I extends Inputs, O, F extends string, R> = TaskSettings<I, O> & { [K in F]: (inputs: InputValues<I>, run: Run) => R };

/** The settings a DAG takes besides its tasks: the DAG as data without them (types.ts), its default_args without callbacks. */
export type DagSettings<P extends z.ZodObject> = Omit<data.DagFileDefinition<P>, 'tasks' | 'result' | 'defaultArgs'> & {
  defaultArgs?: Omit<data.DefaultArgs, 'onFailure' | 'onRetry' | 'onSuccess'>;
};

/** What `build` is given: references to the run's values, for args, inputs and templates. */
export interface DagScope<P extends z.ZodObject> {
  ds: Ref<string>;
  ds_nodash: Ref<string>;
  ts: Ref<string>;
  ts_nodash: Ref<string>;
  data_interval_start: Ref<string>;
  data_interval_end: Ref<string>;
  /** The run's params, typed by the DAG's schema: `params.region`. */
  params: Ref<z.output<P>>;
  conf: Ref<Record<string, unknown>>;
}

/** A run's result computed from its inputs: `return result({ load }, ({ load }, run) => ({ rows: load.rows }))`. */
export interface DagResult {
  readonly [BUILD]: { inputs: Record<string, RefMarker>; compute: (inputs: Record<string, unknown>, run: Run) => Record<string, unknown> };
}

/** What a result may say of the run: its state, and whether it was an empty day (the `empty` notifiers are told). */
type ResultState = { state?: 'success' | 'success_with_skips'; empty?: boolean };

/**
 * A DAG: its settings, then `build`, which declares its tasks and may return the run's result
 * (outputs and values by name, references resolved at the end of the run, or `result(...)`).
 */
export function dag<P extends z.ZodObject = z.ZodObject<Record<string, never>>>(
  settings: DagSettings<P>,
  build: (scope: DagScope<P>) => DagResult | (Record<string, unknown> & ResultState) | void,
): data.DagFileDefinition<P> {
  const { tasks, edges, returned } = whileBuilding(settings?.dagId, ({ tasks, edges }) => ({
    tasks,
    edges,
    returned: build({
      ds: makeRef([['ds']]) as Ref<string>,
      ds_nodash: makeRef([['ds_nodash']]) as Ref<string>,
      ts: makeRef([['ts']]) as Ref<string>,
      ts_nodash: makeRef([['ts_nodash']]) as Ref<string>,
      data_interval_start: makeRef([['data_interval_start']]) as Ref<string>,
      data_interval_end: makeRef([['data_interval_end']]) as Ref<string>,
      params: makeRef([['params']]) as Ref<z.output<P>>,
      conf: makeRef([['conf']]) as Ref<Record<string, unknown>>,
    }),
  }));
  for (const [taskId, upstream] of upstreamOf(edges)) if (upstream.length) (tasks[taskId] as { upstream?: string[] }).upstream = upstream;
  const { defaultArgs, ...rest } = settings;
  return { ...rest, ...(defaultArgs ? { defaultArgs } : {}), tasks, ...(returned ? { result: resultOf(returned) } : {}) };
}

/**
 * Each task's upstream: the tasks it names, and those it reads that are not already upstream of
 * another (a read of extract through transform's output needs no edge of its own, which would
 * skip the reader when the branch skipped extract). A read of a later task, or a cycle, is left
 * for compile to name.
 */
function upstreamOf(edges: Building['edges']): Map<string, string[]> {
  const ancestors = new Map<string, Set<string>>();
  const visiting = new Set<string>();
  const final = new Map<string, string[]>();
  const upstream = (taskId: string): string[] => {
    const known = final.get(taskId);
    if (known) return known;
    const { named, reads } = edges.get(taskId) ?? { named: [], reads: new Set<string>() };
    const direct = [...new Set([...named, ...reads])];
    const kept = direct.filter((r) => named.includes(r) || !direct.some((other) => other !== r && ancestorsOf(other).has(r)));
    final.set(taskId, kept);
    return kept;
  };
  const ancestorsOf = (taskId: string): Set<string> => {
    const known = ancestors.get(taskId);
    if (known) return known;
    if (visiting.has(taskId) || !edges.has(taskId)) return new Set();
    visiting.add(taskId);
    const { named, reads } = edges.get(taskId)!;
    const found = new Set<string>();
    for (const u of new Set([...named, ...reads])) {
      found.add(u);
      for (const a of ancestorsOf(u)) found.add(a);
    }
    visiting.delete(taskId);
    ancestors.set(taskId, found);
    return found;
  };
  for (const taskId of edges.keys()) upstream(taskId);
  return final;
}

/** The run's result from inputs: `result({ load, alert: optional(alert) }, ({ load, alert }, run) => ({ ... }))`. */
export function result<I extends Inputs>(inputs: I, compute: (inputs: InputValues<I>, run: Run) => Record<string, unknown> & ResultState): DagResult {
  const reads = new Set<string>();
  return { [BUILD]: { inputs: toMarkers(inputs, reads) as Record<string, RefMarker>, compute: compute as DagResult[typeof BUILD]['compute'] } };
}

function resultOf(returned: DagResult | Record<string, unknown>): data.DagFileDefinition['result'] {
  if (BUILD in returned) {
    const { inputs, compute } = (returned as DagResult)[BUILD];
    return (ctx) => compute(resolveInputs(inputs, ctx), runOf(ctx));
  }
  const markers = toMarkers(returned, new Set());
  return (ctx) => resolveDeep(markers, ctx) as Record<string, unknown>;
}

const resolveInputs = (inputs: Record<string, RefMarker>, ctx: data.RunContext) =>
  Object.fromEntries(Object.entries(inputs).map(([name, marker]) => [name, resolveMarker(marker, ctx)]));

function resolveDeep(value: unknown, ctx: data.RunContext): unknown {
  if (isMarker(value)) return resolveMarker(value, ctx);
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, ctx));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, ctx)]));
  return value;
}

const runOf = (ctx: data.RunContext): Run => ({
  dagId: ctx.dagId,
  ds: ctx.ds,
  ds_nodash: ctx.ds_nodash,
  ts: ctx.ts,
  ts_nodash: ctx.ts_nodash,
  data_interval_start: ctx.data_interval_start,
  data_interval_end: ctx.data_interval_end,
  conf: ctx.conf,
  states: ctx.states,
  cached: ctx.cached,
});

const CALLBACKS = ['onFailure', 'onRetry', 'onSuccess'] as const;
/** What marks an own task's builder (`own.pageTheTeam`), so that it can be a callback. */
export const OWN_TASK = Symbol.for('baton.own-task');

/**
 * Declares a task in the DAG being built: its settings as data, references as markers, and each
 * function (skipIf, a function of args, branch's choose, shortCircuit's condition) given its
 * inputs and the run.
 */
export function declare(operator: data.OperatorName, localId: string, given: object = {}): AnyTask {
  const settings = given as Record<string, unknown>;
  const building = current();
  if (!building) throw new Error(`${operator}(${JSON.stringify(localId)}) is called outside a DAG: declare tasks inside dag({...}, () => { ... })`);
  if (typeof localId !== 'string') throw new Error(`DAG ${JSON.stringify(building.dagId)}: ${operator}(...) takes the task id first, then its settings`);
  // Inside group('load', ...), task region_eu is load.region_eu.
  const taskId = [...building.path, localId].join('.');
  const at = `DAG ${JSON.stringify(building.dagId)}: task ${JSON.stringify(taskId)}`;
  if (localId.includes('.'))
    throw new Error(`${at}: a task id has no dots; a group's task is declared inside group(${JSON.stringify(localId.split('.')[0])}, () => { ... })`);
  if (Object.prototype.hasOwnProperty.call(building.tasks, taskId)) throw new Error(`${at} is declared twice`);
  if (building.groups.has(taskId)) throw new Error(`${at}: its id is also a group's`);
  const { upstream, inputs, summary, ...rest } = settings;
  const reads = new Set<string>();
  const explicit = upstreamIds(building, at, upstream);
  const inputMarkers = toMarkers(inputs ?? {}, reads) as Record<string, RefMarker>;
  const definition: Record<string, unknown> = { operator };
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue;
    if ((CALLBACKS as readonly string[]).includes(key)) {
      definition[key] = callbackOf(at, key, value);
    } else if (key === 'mapArgs' || key === 'mapLabel') {
      // A mapped task's functions of its item: given the item, its index and the run.
      const fn = value as (item: unknown, index: number, run: Run) => unknown;
      definition[key] = (item: unknown, index: number, ctx: data.RunContext) => fn(item, index, runOf(ctx));
    } else if (typeof value === 'function') {
      const fn = value as (inputs: Record<string, unknown>, run: Run) => unknown;
      definition[key] = (ctx: data.RunContext) => fn(resolveInputs(inputMarkers, ctx), runOf(ctx));
    } else definition[key] = key === 'contract' || key === 'schema' ? value : toMarkers(value, reads);
  }
  if (summary !== undefined) definition.summary = summary;
  if (Object.keys(inputMarkers).length) definition.inputs = inputMarkers;
  building.edges.set(taskId, { named: explicit, reads });
  building.tasks[taskId] = definition as unknown as data.TaskDefinition;
  for (let depth = 1; depth <= building.path.length; depth++) building.groups.get(building.path.slice(0, depth).join('.'))!.push(taskId);
  return makeRef([['xcom', taskId]]) as unknown as AnyTask;
}

function callbackOf(at: string, key: string, value: unknown): data.TaskCallback {
  if (typeof value === 'function' && typeof (value as { [OWN_TASK]?: string })[OWN_TASK] === 'string')
    return { task: (value as unknown as { [OWN_TASK]: string })[OWN_TASK] };
  if (value && typeof value === 'object' && 'notify' in value) return { notify: [...(value as { notify: string[] }).notify] };
  throw new Error(`${at}: ${key} is { notify: [addresses] } or a task of one's own (own.<function>)`);
}
