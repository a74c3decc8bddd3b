/**
 * The DAG being built: what `dag(...)` opens while its `build` runs, and what each operator's
 * `declare` and each `group(...)` add to (its tasks, their edges, the groups and their members).
 * One at a time: a DAG's build never declares another DAG. Pure: bundled into the workflow sandbox.
 */
import type { Ref } from './refs';
import type * as data from './types';

declare const TASK: unique symbol;
/** A task that declares no inputs. */
export type NoInputs = Record<string, never>;
/** A task of the DAG: a reference to its output that is also an upstream for `upstream: [...]`. */
export type TaskOf<O> = Ref<O> & { readonly [TASK]: true };
export type AnyTask = { readonly [TASK]: true };

/** A task id, or the id of a group: letters, digits and _, starting with a letter. */
export const ID = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

/** The key of the build in progress, and of a `result(...)`'s inputs and function. */
export const BUILD = Symbol.for('baton.dag-build');

export interface Building {
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

/** The DAG being built, if any. */
export const building = (): Building | undefined => globalState[BUILD];

/** Runs `build` with a DAG of this id open for its tasks; the DAG is closed after, whatever `build` did. */
export function whileBuilding<R>(dagId: string, build: (building: Building) => R): R {
  const open = globalState[BUILD];
  if (open) throw new Error(`dag(${JSON.stringify(dagId)}) inside the build of DAG ${open.dagId}`);
  const state: Building = { dagId, tasks: {}, edges: new Map(), path: [], groups: new Map() };
  globalState[BUILD] = state;
  try {
    return build(state);
  } finally {
    globalState[BUILD] = undefined;
  }
}
