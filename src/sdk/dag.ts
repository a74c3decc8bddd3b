/**
 * How a DAG file is written: `dag(settings, build)`, where `build` declares the tasks, each an
 * operator called with its task id and settings, in the order the file reads (Airflow's
 * `with DAG(...):` block). An operator returns a reference to its task's output: pass it (or
 * a field of it) to the tasks that read it, in args, inputs or a template string, and tsc
 * checks the read against the output's type while the edge follows from it. `upstream` is for
 * edges that carry no data. `group(id, () => ...)` declares tasks under a prefix (Airflow's
 * TaskGroup): `load.region_eu`; it returns what its function returns, typed, and stands for its
 * tasks as one upstream. What `dag` returns is the DAG as data (types.ts), which the engine
 * (workflows/engine.ts) runs and `baton dags validate` checks. The operators' builders
 * (`sql(...)`, `loadCsv(...)`) are in their folders (src/operators/<name>/definition.ts) and
 * declare their tasks here. Pure: bundled into the workflow sandbox.
 */
import type { z } from 'zod';
import type { OwnTaskBuilder } from '../operators/task/definition';
import { isMarker, isRef, makeRef, taskIdOf, toMarkers, type Inputs, type InputValues, type Ref, type RefMarker } from './refs';
import { resolveMarker } from './templates';
import type { TaskContext } from '../task/context';
import type * as data from './types';

declare const TASK: unique symbol;
/** A task that declares no inputs. */
export type NoInputs = Record<string, never>;
/** A task of the DAG: a reference to its output that is also an upstream for `upstream: [...]`. */
export type TaskOf<O> = Ref<O> & { readonly [TASK]: true };
type AnyTask = { readonly [TASK]: true };

/** What marks a group's handle, with its id: a symbol, so no name its function returns can clash with it. */
const GROUP: unique symbol = Symbol.for('baton.group');
type AnyGroup = { readonly [GROUP]: string };
/**
 * A group of tasks (Airflow's TaskGroup): what its function returned (its tasks' outputs and
 * inner groups, typed, `load.eu.rows`), and an upstream for `upstream: [load]` that stands for
 * every task of the group nothing else in it follows (its leaves).
 */
export type Group<T> = (T extends object ? T : unknown) & AnyGroup;
/** What a task may run after: a task, or a group (its leaves). */
export type Upstream = AnyTask | AnyGroup;

/** A task id, or the id of a group: letters, digits and _, starting with a letter. */
const ID = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

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

const BUILD = Symbol.for('baton.dag-build');
interface Building {
  dagId: string;
  tasks: Record<string, data.TaskDefinition>;
  /** Each task's upstream tasks as the file names them, and the tasks whose outputs it reads. */
  edges: Map<string, { named: string[]; reads: Set<string> }>;
  /** The ids of the groups being built, outermost first: the prefix of the tasks declared now. */
  path: string[];
  /** Each group's tasks, by the group's full id, in the order they were declared (inner groups' included). */
  groups: Map<string, string[]>;
}
const globalState = globalThis as { [BUILD]?: Building };

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
  if (globalState[BUILD]) throw new Error(`dag(${JSON.stringify(settings?.dagId)}) inside the build of DAG ${globalState[BUILD].dagId}`);
  const tasks: Record<string, data.TaskDefinition> = {};
  const edges: Building['edges'] = new Map();
  globalState[BUILD] = { dagId: settings?.dagId, tasks, edges, path: [], groups: new Map() };
  let returned: ReturnType<typeof build>;
  try {
    returned = build({
      ds: makeRef([['ds']]) as Ref<string>,
      ds_nodash: makeRef([['ds_nodash']]) as Ref<string>,
      ts: makeRef([['ts']]) as Ref<string>,
      ts_nodash: makeRef([['ts_nodash']]) as Ref<string>,
      data_interval_start: makeRef([['data_interval_start']]) as Ref<string>,
      data_interval_end: makeRef([['data_interval_end']]) as Ref<string>,
      params: makeRef([['params']]) as Ref<z.output<P>>,
      conf: makeRef([['conf']]) as Ref<Record<string, unknown>>,
    });
  } finally {
    globalState[BUILD] = undefined;
  }
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
  const building = globalState[BUILD];
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

/** The task ids an `upstream` list names: a task's own, a group's leaves. */
function upstreamIds(building: Building, at: string, upstream: unknown): string[] {
  const ids = ((upstream as unknown[] | undefined) ?? []).flatMap((u, i) => {
    const groupId = (u as Partial<AnyGroup> | undefined)?.[GROUP];
    if (typeof groupId === 'string') {
      const members = building.groups.get(groupId);
      if (!members) throw new Error(`${at}: upstream[${i}] is group ${groupId} of another DAG`);
      return leavesOf(building, members);
    }
    const id = taskIdOf(u);
    if (!id) throw new Error(`${at}: upstream[${i}] is not a task or a group (pass what an operator or group(...) returned)`);
    return [id];
  });
  return [...new Set(ids)];
}

/** A group's tasks that no other task of the group follows, named or by a read (Airflow's leaves). */
function leavesOf(building: Building, members: readonly string[]): string[] {
  const followed = new Set(members.flatMap((m) => upstreamWithin(building, m, members)));
  return members.filter((m) => !followed.has(m));
}

/** The tasks of `members` that a task runs after directly. */
function upstreamWithin(building: Building, taskId: string, members: readonly string[]): string[] {
  const { named, reads } = building.edges.get(taskId)!;
  return [...named, ...reads].filter((u) => u !== taskId && members.includes(u));
}

/** A group's settings: what its tasks run after, as one. */
export interface GroupSettings {
  /** Tasks (or groups) the group runs after: each of its roots (its tasks that follow no other of its tasks) runs after them. */
  upstream?: readonly Upstream[];
}

/**
 * Declares tasks under a group id (Airflow's TaskGroup): inside `build`, task `region_eu` is
 * `load.region_eu`, and groups nest (`load.eu.orders`). `build` returns the group's tasks (and
 * inner groups) by name, or nothing; the group returns them, typed, and stands for its leaves
 * as an upstream: `sql('report', { upstream: [load] })`. With `upstream`, its roots run after those.
 *
 *   const load = group('load', { upstream: [extract] }, () => {
 *     const eu = sql('region_eu', { ... });
 *     const us = sql('region_us', { ... });
 *     return { eu, us };
 *   });
 *   command('report', { argv: ['report', `${load.eu.rows}`], upstream: [load] });
 */
export function group<T extends object | void = void>(groupId: string, build: () => T): Group<T>;
export function group<T extends object | void = void>(groupId: string, settings: GroupSettings, build: () => T): Group<T>;
export function group(groupId: string, ...args: [() => unknown] | [GroupSettings, () => unknown]): AnyGroup {
  const building = globalState[BUILD];
  if (!building) throw new Error(`group(${JSON.stringify(groupId)}) is called outside a DAG: declare groups inside dag({...}, () => { ... })`);
  const [settings, build] = args.length === 1 ? [{}, args[0]] : args;
  const dagAt = `DAG ${JSON.stringify(building.dagId)}`;
  if (typeof groupId !== 'string' || typeof build !== 'function')
    throw new Error(`${dagAt}: group(...) takes the group id, its settings if any, then the function that declares its tasks`);
  const fullId = [...building.path, groupId].join('.');
  const at = `${dagAt}: group ${JSON.stringify(fullId)}`;
  if (!ID.test(groupId))
    throw new Error(`${at}: a group id is letters, digits and _, starting with a letter (a group inside a group is declared inside its function)`);
  if (building.groups.has(fullId)) throw new Error(`${at} is declared twice`);
  if (Object.prototype.hasOwnProperty.call(building.tasks, fullId)) throw new Error(`${at}: its id is also a task's`);
  const upstream = upstreamIds(building, at, settings.upstream);
  const members: string[] = [];
  building.groups.set(fullId, members);
  building.path.push(groupId);
  let returned: unknown;
  try {
    returned = build();
  } finally {
    building.path.pop();
  }
  if (!members.length) throw new Error(`${at} declares no tasks`);
  const plain = returned !== null && typeof returned === 'object' && !isRef(returned) && Object.getPrototypeOf(returned) === Object.prototype;
  if (returned !== undefined && !plain) throw new Error(`${at}: its function returns its tasks by name (return { eu, us }) or nothing`);
  // Airflow's `extract >> group`: each root of the group runs after the group's upstream.
  for (const root of members.filter((m) => !upstreamWithin(building, m, members).length)) {
    const edges = building.edges.get(root)!;
    edges.named.push(...upstream.filter((u) => !edges.named.includes(u)));
  }
  return { ...(returned as object | undefined), [GROUP]: fullId };
}

function callbackOf(at: string, key: string, value: unknown): data.TaskCallback {
  if (typeof value === 'function' && typeof (value as { [OWN_TASK]?: string })[OWN_TASK] === 'string')
    return { task: (value as unknown as { [OWN_TASK]: string })[OWN_TASK] };
  if (value && typeof value === 'object' && 'notify' in value) return { notify: [...(value as { notify: string[] }).notify] };
  throw new Error(`${at}: ${key} is { notify: [addresses] } or a task of one's own (own.<function>)`);
}
