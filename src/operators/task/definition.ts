/**
 * The `task` operator, a DAG's own task: a function its activities module exports, run on the
 * worker with its args (data with templates, or a function of the run). Its settings, templates
 * and the builders `ownTasks<typeof import('./activities')>()` makes. Pure.
 */
import { z } from 'zod';
import { declare, OWN_TASK, type NoInputs, type Run, type TaskOf, type TaskSettings } from '../../sdk/dag';
import type { Inputs, InputValues, Ref, Refable, RefMarker } from '../../sdk/refs';
import { templatesIn } from '../../sdk/templates';
import type { RunContext, TaskBase } from '../../sdk/types';
import type { TaskContext } from '../../task/context';
import { common, duration, relativePath, runFunction } from '../common';
import { MAX_MAX_ACTIVE } from '../../mapping';
import type { OperatorDefinition } from '../definitions';

/** A task's cache (Prefect's cache_key_fn and cache_expiration), for a task whose output is a file reference. */
export interface TaskCacheSettings {
  /** How long a stored output is served: `1h`. */
  expiresIn: string;
  /** `inputs+file` (the default): its args and its input file's content; `inputs`: its args alone (Prefect's task_input_hash). Templated. */
  policy?: string;
  /** The file under the data directory whose content the key includes (templated). */
  inputFile?: string;
}

export interface UserTask extends TaskBase {
  operator: 'task';
  /** An activity exported by the DAG's activities module (`<dag>.activities.ts` or `<dag>/activities.ts`). */
  activity: string;
  /**
   * Its one argument: data with templated strings inside, or a pure function of the run's context
   * (upstream outputs as numbers and objects); the activity returns the task's output.
   */
  args?: ((run: RunContext) => unknown) | Record<string, unknown> | readonly unknown[] | string | number | boolean | null;
  /**
   * Serve its output from the cache while the entry for the same args lives: the output must be a
   * file reference (`{ path, bytes }` under the data directory), and an entry whose file is gone
   * or changed is a miss. A run with conf `refresh_cache: true` runs every cached task afresh.
   */
  cache?: TaskCacheSettings;
  /**
   * Dynamic task mapping (`own.fn.expand(...)`, Airflow's `expand`): one instance per item of the
   * list `over` reads, at most `maxActive` at once; the task's output is the instances' outputs.
   */
  map?: { over: RefMarker; maxActive?: number };
  /** A mapped instance's args from its item (the item itself without it). */
  mapArgs?: (item: unknown, index: number, run: RunContext) => unknown;
  /** A mapped instance's label in the task table and the Web UI. */
  mapLabel?: (item: unknown, index: number, run: RunContext) => string;
}

export const taskDefinition: OperatorDefinition<UserTask, unknown> = {
  operator: 'task',
  settings: z
    .object({
      ...common,
      activity: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'the name of an exported function'),
      args: z.unknown().optional(),
      cache: z
        .object({ expiresIn: duration, policy: z.string().min(1).optional(), inputFile: relativePath.optional() })
        .strict()
        .optional(),
      map: z
        .object({
          over: z.object({ $ref: z.array(z.string()).min(1), optional: z.literal(true).optional() }).strict(),
          maxActive: z.number().int().min(1).max(MAX_MAX_ACTIVE).optional(),
        })
        .strict()
        .optional(),
      mapArgs: runFunction.optional(),
      mapLabel: runFunction.optional(),
    })
    .strict()
    .refine((t) => !(t.map && t.cache), 'a mapped task has no cache (each instance is a task of its own)')
    .refine((t) => !(t.map && t.args !== undefined), 'a mapped task takes its args from each item (expand({ args: (item) => ... }))'),
  // What its function returns, as the DAG file's type check read it; any field when it could not.
  outputFields: (_, own) => own ?? '*',
  templates: (task) => [
    ...(typeof task.args === 'function' ? [] : templatesIn(task.args ?? null)),
    ...[task.cache?.policy, task.cache?.inputFile].filter((t): t is string => t !== undefined),
  ],
};

/** A function of one's own module as a task: its args are its first parameter, its output what it returns. */
export type TaskFunction = (args: never, context: TaskContext) => unknown;

/** A task of one's own: `args` (required when the function takes them) are data with references, or a function of the inputs. */
export type OwnTaskSettings<A, O, I extends Inputs> = TaskSettings<I, O> & {
  /** Serve its output (a file reference) from the cache while the entry for the same args lives. */
  cache?: TaskCacheSettings;
} & (unknown extends A ? { args?: unknown } : undefined extends A ? { args?: OwnArgs<A, I> } : { args: OwnArgs<A, I> });
type OwnArgs<A, I extends Inputs> = Refable<A> | ((inputs: InputValues<I>, run: Run) => A);

/**
 * A mapped task's settings (`own.fn.expand(taskId, { over, args })`): the list it runs over (an
 * upstream output, or a field of it), each instance's args from its item (the item itself when
 * the function takes it), an optional label, and how many instances run at once.
 */
export type ExpandSettings<T, A, O, I extends Inputs> = Omit<TaskSettings<I, O[]>, 'skipIf'> & {
  /** The list: what an upstream task returned (files in a folder, partitions, ids), or a field of it. */
  over: Ref<readonly T[]>;
  /** Instances running at once over all of them; 16 by default. */
  maxActive?: number;
  /** An instance's label in the task table (a file name, a partition): its index by default. */
  label?: (item: T, index: number) => string;
} & ([T] extends [A] ? { args?: (item: T, index: number, run: Run) => A } : { args: (item: T, index: number, run: Run) => A });

/** The builder of a task that runs function F; `.expand` maps it over a list. */
export type OwnTaskBuilder<F> = F extends (args: infer A, ...rest: never[]) => infer R
  ? (<I extends Inputs = NoInputs>(
      taskId: string,
      ...settings: Partial<OwnTaskSettings<A, Awaited<R>, I>> extends OwnTaskSettings<A, Awaited<R>, I>
        ? [OwnTaskSettings<A, Awaited<R>, I>?]
        : [OwnTaskSettings<A, Awaited<R>, I>]
    ) => TaskOf<Awaited<R>>) & {
      readonly [OWN_TASK]: string;
      /** One instance per item of `over` (Airflow's expand): its output is the list of the instances' outputs, in order. */
      expand<T, I extends Inputs = NoInputs>(taskId: string, settings: ExpandSettings<T, A, Awaited<R>, I>): TaskOf<Awaited<R>[]>;
    }
  : never;

/** The builders of a module's exported functions. */
export type OwnTasks<M> = { readonly [K in keyof M as M[K] extends (...args: never[]) => unknown ? K : never]: OwnTaskBuilder<M[K]> };

/**
 * The DAG's own tasks, typed by their module, as Temporal's proxyActivities: the module is read
 * for its types only (it runs on the worker, never in the DAG), and each function becomes the
 * builder of a task running it. `const own = ownTasks<typeof import('./activities')>();`
 * then `own.fiscalDay('fiscal_day', { args: { ds, startMonth: params.start_month } })`.
 */
export function ownTasks<M>(): OwnTasks<M> {
  return new Proxy(Object.create(null) as object, {
    get(_, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      const builder = (taskId: string, settings: Record<string, unknown> = {}) => declare('task', taskId, { ...settings, activity: name });
      const expand = (taskId: string, settings: Record<string, unknown> = {}) => {
        const { over, maxActive, args, label, ...rest } = settings;
        const map = { over, ...(maxActive !== undefined ? { maxActive } : {}) };
        return declare('task', taskId, {
          ...rest,
          activity: name,
          map,
          ...(args !== undefined ? { mapArgs: args } : {}),
          ...(label !== undefined ? { mapLabel: label } : {}),
        });
      };
      return Object.assign(builder, { [OWN_TASK]: name, expand });
    },
  }) as OwnTasks<M>;
}
