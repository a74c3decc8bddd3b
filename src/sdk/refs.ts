/**
 * A reference to a value the run will have: a task's output (or a field of it), the run's ds or
 * a param. A DAG file reads upstream outputs only through references, so tsc checks every read
 * against the upstream's output type, and the edge follows from the read. At build time a
 * reference is a proxy; in the compiled DAG it is a plain marker (`{ $ref: ['xcom.load.rows'] }`)
 * that the engine resolves from the run's context, or, inside a template string, the
 * placeholder it stands for (`{{ xcom.load.rows }}`; a group's task by its quoted id,
 * `{{ xcom['load.eu'].rows }}`, names.ts). Pure: bundled into the workflow sandbox.
 */

import { formatName, xcomReadsIn } from './names';

/** The type a reference carries; a symbol, so no output field can clash with it. */
declare const VALUE: unique symbol;

/** A reference to a value of type T; a field of it is a reference too (`load.rows`). */
export type Ref<T> = { readonly [VALUE]: T } & RefFields<T>;
type RefFields<T> = [NonNullable<T>] extends [readonly unknown[]]
  ? { readonly length: Ref<number> }
  : [NonNullable<T>] extends [object]
    ? { readonly [K in keyof NonNullable<T>]-?: Ref<NonNullable<T>[K] | (undefined extends T ? undefined : never)> }
    : unknown;

/** The value a reference stands for. */
export type ValueOf<R> = R extends { readonly [VALUE]: infer T } ? T : never;

/** Data where any value may be a reference to a value of its type: a user task's args. */
export type Refable<T> =
  | Ref<T>
  | (T extends string | number | boolean | null | undefined | bigint
      ? T
      : T extends readonly (infer E)[]
        ? readonly Refable<E>[]
        : T extends object
          ? { [K in keyof T]: Refable<T[K]> }
          : T);

/** A task's declared inputs: references, by the names its functions read them under. */
export type Inputs = Record<string, Ref<unknown>>;
/** The values of a task's inputs. */
export type InputValues<I> = { [K in keyof I]: ValueOf<I[K]> };

/** How a reference reads the run: alternatives (the first whose task gave an output wins), each a dotted name. */
export interface RefMarker {
  $ref: string[];
  /** Undefined (rather than a failed task) when no alternative's task gave an output. */
  optional?: true;
}

const REF = Symbol.for('baton.ref');

interface RefState {
  alternatives: string[][];
  optional: boolean;
}

export const isRef = (value: unknown): boolean => (typeof value === 'object' || typeof value === 'function') && value !== null && REF in value;

function stateOf(value: unknown): RefState {
  return (value as Record<symbol, RefState>)[REF];
}

/** A reference to `path` (`['ds']`, `['params', 'x']`, `['xcom', 'load', 'rows']`). */
export function makeRef(alternatives: string[][], optional = false): Ref<unknown> {
  const state: RefState = { alternatives, optional };
  return new Proxy(Object.create(null) as object, {
    get(_, prop) {
      if (prop === REF) return state;
      if (prop === Symbol.toPrimitive || prop === 'toString') return () => placeholderOf(state);
      if (prop === 'toJSON') return () => markerOf(state);
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      return makeRef(
        alternatives.map((path) => [...path, prop]),
        optional,
      );
    },
    has: (_, prop) => prop === REF,
    set() {
      throw new TypeError('a reference is read-only: it stands for a value the run will have');
    },
  }) as Ref<unknown>;
}

/** The placeholder a reference stands for inside a template string: `{{ xcom.load.rows }}`, `{{ xcom['load.eu'].rows }}`. */
function placeholderOf(state: RefState): string {
  if (state.alternatives.length !== 1 || state.optional)
    throw new TypeError(
      `${state.alternatives.map(formatName).join(' or ')}: firstOf(...) and optional(...) go in args or inputs, not inside a template string`,
    );
  return `{{ ${formatName(state.alternatives[0])} }}`;
}

function markerOf(state: RefState): RefMarker {
  return { $ref: state.alternatives.map(formatName), ...(state.optional ? { optional: true as const } : {}) };
}

/** The task ids a reference reads (the roots of its xcom paths). */
export function refTasks(value: unknown): string[] {
  return stateOf(value).alternatives.flatMap((p) => (p[0] === 'xcom' && p[1] ? [p[1]] : []));
}

/** A reference that reads the first of these tasks' outputs that is there: `firstOf(extract, extractFromDb)`. */
export function firstOf<T extends readonly Ref<unknown>[]>(...refs: T): Ref<ValueOf<T[number]>> {
  if (!refs.length || !refs.every(isRef)) throw new TypeError('firstOf(...) takes task outputs (or their fields)');
  return makeRef(refs.flatMap((r) => stateOf(r).alternatives)) as Ref<ValueOf<T[number]>>;
}

/**
 * A reference that is undefined when its task gave no output (it was skipped or failed), for a
 * task that runs whatever its upstream did: `optional(load).loadedRows`. A plain reference to
 * a task that gave no output fails the task that reads it, naming both.
 */
export function optional<T>(ref: Ref<T>): Ref<T | undefined> {
  if (!isRef(ref)) throw new TypeError('optional(...) takes a task output (or a field of it)');
  return makeRef(stateOf(ref).alternatives, true) as Ref<T | undefined>;
}

/**
 * Data with its references made markers (a reference's own value comes from the run), so the
 * compiled DAG is plain data; `reads` collects the task ids they read.
 */
export function toMarkers(value: unknown, reads: Set<string>): unknown {
  if (isRef(value)) {
    for (const t of refTasks(value)) reads.add(t);
    return markerOf(stateOf(value));
  }
  if (typeof value === 'string') {
    for (const taskId of xcomReadsIn(value)) reads.add(taskId);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => toMarkers(v, reads));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toMarkers(v, reads)]));
  return value;
}

export const isMarker = (value: unknown): value is RefMarker =>
  !!value && typeof value === 'object' && Array.isArray((value as RefMarker).$ref) && Object.keys(value).every((k) => k === '$ref' || k === 'optional');

/** Every marker inside compiled data. */
export function markersIn(value: unknown): RefMarker[] {
  if (isMarker(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(markersIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(markersIn);
  return [];
}

/** The task id of a whole task's reference (what an operator returns), else undefined. */
export function taskIdOf(value: unknown): string | undefined {
  if (!isRef(value)) return undefined;
  const { alternatives, optional } = stateOf(value);
  const [path] = alternatives;
  return alternatives.length === 1 && !optional && path.length === 2 && path[0] === 'xcom' ? path[1] : undefined;
}
