/**
 * Groups of tasks (Airflow's TaskGroup): `group(id, () => ...)` declares tasks under a prefix
 * (`load.region_eu`), returns what its function returns, typed, and stands for its leaves (its
 * tasks nothing else in it follows) as one upstream. What `upstream: [...]` lists, tasks and
 * groups, is read into task ids here. Pure: bundled into the workflow sandbox.
 */
import { isRef, taskIdOf } from './refs';
import { building as current, ID, type AnyTask, type Building } from './building';

/** What marks a group's handle, with its id: a symbol, so no name its function returns can clash with it. */
const GROUP: unique symbol = Symbol.for('baton.group');
type AnyGroup = { readonly [GROUP]: string };
/**
 * A group of tasks: what its function returned (its tasks' outputs and inner groups, typed,
 * `load.eu.rows`), and an upstream for `upstream: [load]` that stands for every task of the
 * group nothing else in it follows (its leaves).
 */
export type Group<T> = (T extends object ? T : unknown) & AnyGroup;
/** What a task may run after: a task, or a group (its leaves). */
export type Upstream = AnyTask | AnyGroup;

/** The task ids an `upstream` list names: a task's own, a group's leaves. */
export function upstreamIds(building: Building, at: string, upstream: unknown): string[] {
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
  const building = current();
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
