/**
 * A DAG file's definition checked and filled in: Airflow's defaults where it says nothing, the
 * graph in the order the file declares it, each task's upstream and downstream tasks, and every
 * problem found (unknown upstream tasks, cycles, bad operator settings, templates that name
 * what the task cannot see), each naming the DAG and the task. Pure: the worker, the CLI and
 * the workflow all compile a DAG the same way.
 */
import type { DagDefinition } from '../dags';
import { operatorOf, operatorProblems, type OwnOutputFields } from '../operators/definitions';
import { xcomReadsIn } from './names';
import { assetExpressionOf, assetsIn, type AssetExpression } from './assets';
import { templateProblems, templatesIn } from './templates';
import { TRIGGER_RULES, type DagFileDefinition, type DefaultArgs, type TaskDefinition, type TriggerRule } from './types';
import { z } from 'zod';
import { deadline, notifier } from '../operators/common';

export class InvalidDagFile extends Error {
  override name = 'InvalidDagFile';
  constructor(
    readonly dagId: string,
    readonly problems: string[],
  ) {
    super(`DAG ${JSON.stringify(dagId)}: ${problems.join('; ')}`);
  }
}

export interface CompiledTask {
  taskId: string;
  definition: TaskDefinition;
  upstream: string[];
  downstream: string[];
  triggerRule: TriggerRule;
  teardown: boolean;
  setup: boolean;
  /** Its direct upstream tasks that are setups: a teardown runs when one of them succeeded. */
  setups: string[];
  /** The setups upstream of it, not directly, in whose scope it is (their teardown is downstream of it, or they have none). */
  inScopeOf: string[];
  /** Every task upstream of this one, directly or not: whose outputs its templates may read. */
  ancestors: string[];
}

export interface CompiledDag {
  dagId: string;
  workflowType: string;
  /** The definition the scheduling machinery reads (schedules, slots, alerts, the CLI). */
  definition: DagDefinition;
  file: DagFileDefinition;
  tasks: CompiledTask[];
  /** The task ids in the order they can run (upstream first, the file's order between equals). */
  order: string[];
}

/** A task's output is XCom: references and counts. More than this is refused, naming the size. */
export const XCOM_MAX_BYTES = 16 * 1024;

/** A list output (what a task is mapped over: ids, partitions, file names) may be this large. */
export const XCOM_LIST_MAX_BYTES = 1024 * 1024;

/** Why an output cannot be XCom (its size, and what to return instead), or undefined when it can. */
export function xcomOverflow(result: unknown): string | undefined {
  const bytes = JSON.stringify(result ?? null).length;
  if (Array.isArray(result))
    return bytes > XCOM_LIST_MAX_BYTES
      ? `a list of ${bytes} bytes, more than the ${XCOM_LIST_MAX_BYTES} a list in XCom holds; return references (paths, keys) and counts`
      : undefined;
  return bytes > XCOM_MAX_BYTES ? `${bytes} bytes, more than the ${XCOM_MAX_BYTES} XCom holds; return a reference (a path, a table) and counts` : undefined;
}

/** The activity type of a user task: the DAG id and the exported function's name. */
export const userActivityType = (dagId: string, name: string) => `${dagId}.${name}`;

/** A task id, or one part of a group's task id (`load.region_eu`: its group's ids, then its own). */
const TASK_ID = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
/** The most a group's task id holds, dots included (Airflow's ID_LEN). */
const GROUPED_ID_MAX = 250;

/** What is wrong with a task id, or undefined. */
function taskIdProblem(taskId: string): string | undefined {
  if (!taskId.includes('.')) return TASK_ID.test(taskId) ? undefined : 'a task id is letters, digits and _, starting with a letter';
  if (!taskId.split('.').every((part) => TASK_ID.test(part)))
    return "a group's task id is its groups' ids and its own joined by ., each letters, digits and _, starting with a letter";
  return taskId.length > GROUPED_ID_MAX ? `a group's task id is at most ${GROUPED_ID_MAX} characters` : undefined;
}

/** Airflow's defaults for what a DAG file leaves out. */
const DEFAULT_ARGS: Required<Pick<DefaultArgs, 'owner' | 'dependsOnPast' | 'email' | 'emailOnFailure' | 'emailOnRetry' | 'retries' | 'retryDelay'>> = {
  owner: 'airflow',
  dependsOnPast: false,
  email: [],
  emailOnFailure: false,
  emailOnRetry: false,
  retries: 0,
  retryDelay: '5m',
};

/**
 * A DAG file's schedule as the scheduling machinery reads it: its cron (none when it is scheduled
 * on assets alone) and its asset condition, parsed; or what is wrong with it, naming the field.
 */
export function scheduleOf(file: Pick<DagFileDefinition, 'schedule'>): { schedule: string | null; assets?: AssetExpression } | { problem: string } {
  const given: unknown = file.schedule;
  if (typeof given === 'string') return { schedule: given };
  if (!given || typeof given !== 'object' || Array.isArray(given) || !('assets' in given))
    return { problem: "schedule: a cron (or a preset such as @daily), or assets: { assets: 'orders & customers' }, with or: '<cron>' for assets or time" };
  const { assets, or, ...rest } = given as { assets: unknown; or?: unknown };
  if (Object.keys(rest).length) return { problem: `schedule: unknown setting ${Object.keys(rest).join(', ')} (it takes assets and or)` };
  if (or !== undefined && (typeof or !== 'string' || !or.trim()))
    return { problem: `schedule.or: a cron (or a preset such as @daily), got ${JSON.stringify(or)}` };
  try {
    return { schedule: or ?? null, assets: assetExpressionOf(assets as never) };
  } catch (err) {
    return { problem: `schedule.assets: ${(err as Error).message}` };
  }
}

/** The definition the scheduling machinery reads, with Airflow's defaults. */
export function dagDefinitionOf(file: DagFileDefinition): DagDefinition {
  const args = { ...DEFAULT_ARGS, ...file.defaultArgs };
  const schedule = scheduleOf(file);
  if ('problem' in schedule) throw new InvalidDagFile(file.dagId, [schedule.problem]);
  return {
    dagId: file.dagId,
    workflowType: file.workflowType ?? file.dagId,
    description: file.description ?? '',
    schedule: schedule.schedule,
    ...(schedule.assets ? { assets: schedule.assets } : {}),
    timezone: file.timezone ?? 'UTC',
    timetable: file.timetable ?? 'interval',
    startDate: file.startDate,
    ...(file.endDate ? { endDate: file.endDate } : {}),
    catchup: file.catchup ?? false,
    maxActiveRuns: file.maxActiveRuns === undefined ? 16 : file.maxActiveRuns,
    tags: [...(file.tags ?? [])],
    ...(file.pausedOnCreation ? { pausedOnCreation: true } : {}),
    defaultArgs: {
      owner: args.owner,
      dependsOnPast: args.dependsOnPast,
      email: [...args.email],
      emailOnFailure: args.emailOnFailure,
      emailOnRetry: args.emailOnRetry,
      retries: args.retries,
      retryDelay: args.retryDelay,
    },
  };
}

export interface CompileOptions {
  /** The output fields of the DAG's own tasks, by task id, when the checker has read them from their functions' types. */
  ownOutputs?: Record<string, readonly string[] | '*'>;
}

/** The fields a task's output has, for the checks of its readers' templates; `*` when any may be there (an unknown operator, named by operatorProblems). */
function outputFields(task: TaskDefinition, own: OwnOutputFields | undefined): OwnOutputFields {
  const fields = operatorOf(task)?.outputFields ?? '*';
  return typeof fields === 'function' ? fields(task, own) : fields;
}

/**
 * A DAG's params from a run's conf: their defaults, overridden by conf keys of the same name,
 * checked against its schema; or each problem, naming the param and what conf gave.
 */
export function paramsOf(file: Pick<DagFileDefinition, 'params'>, conf: Record<string, unknown>): { params: Record<string, unknown> } | { problems: string[] } {
  const schema = file.params;
  if (!schema) return { params: {} };
  const given = Object.fromEntries(Object.keys(schema.shape).flatMap((key) => (key in conf ? [[key, conf[key]]] : [])));
  const parsed = schema.safeParse(given);
  if (parsed.success) return { params: parsed.data as Record<string, unknown> };
  return {
    problems: parsed.error.issues.map((i) => {
      const key = i.path.join('.');
      return `params.${key}: ${i.message}${key in conf ? ` (conf gave ${JSON.stringify(conf[String(i.path[0])])})` : ''}`;
    }),
  };
}

/** Compiles a DAG file's definition; throws InvalidDagFile listing every problem. */
export function compileDag(file: DagFileDefinition, options: CompileOptions = {}): CompiledDag {
  const dagId = typeof file?.dagId === 'string' ? file.dagId : '?';
  const problems: string[] = [];
  const entries = Object.entries(file?.tasks ?? {});
  if (!entries.length) problems.push('it has no tasks');
  const ids = new Set(entries.map(([id]) => id));
  for (const [taskId, task] of entries) {
    const at = `task ${taskId}`;
    const idProblem = taskIdProblem(taskId);
    if (idProblem) problems.push(`${at}: ${idProblem}`);
    // A group's id is no task's (Airflow's DuplicateTaskIdFound), so `load` never names both a task and a group.
    const member = entries.find(([other]) => other.startsWith(`${taskId}.`));
    if (member) problems.push(`${at}: its id is also a group's (the group of ${member[0]})`);
    if (!task || typeof task !== 'object' || typeof task.operator !== 'string') {
      problems.push(`${at}: not a task (make it with an operator: sql(...), command(...), ...)`);
      continue;
    }
    const read = new Set(templatesOf(task).flatMap(xcomReadsIn));
    for (const up of task.upstream ?? []) {
      // A read of a task that is not there is named by the template check, with the field read.
      if (!ids.has(up) && !read.has(up)) problems.push(`${at}: upstream ${up} is not a task of this DAG`);
      if (up === taskId) problems.push(`${at}: it is its own upstream`);
    }
    if (task.triggerRule !== undefined && !TRIGGER_RULES.includes(task.triggerRule)) {
      problems.push(`${at}: trigger rule ${JSON.stringify(task.triggerRule)} is not one of ${TRIGGER_RULES.join(', ')}`);
    }
    if (task.teardown && task.triggerRule !== undefined && task.triggerRule !== 'all_done' && task.triggerRule !== 'all_done_setup_success')
      problems.push(`${at}: a teardown runs when its upstream is done and a setup it follows succeeded (all_done_setup_success)`);
    if (task.teardown && task.setup) problems.push(`${at}: a task is a setup or a teardown, not both`);
    problems.push(...operatorProblems(task).map((p) => `${at}: ${p}`));
  }
  const schedule = scheduleOf(file ?? {});
  if ('problem' in schedule) problems.push(schedule.problem);
  else if (schedule.assets) {
    // A run would announce an update that starts the next run of the same partition, and so on.
    const consumed = assetsIn(schedule.assets);
    for (const [taskId, task] of entries)
      for (const asset of Array.isArray(task?.outlets) ? task.outlets : [])
        if (consumed.includes(asset))
          problems.push(
            `task ${taskId}: it updates ${asset}, which schedules this DAG: each run would start the next (a DAG does not consume its own outlets)`,
          );
  }
  problems.push(...runSettingProblems(file));
  const order = topologicalOrder(entries);
  if (!order) problems.push(`the tasks form a cycle: ${cycleOf(entries).join(' >> ')}`);
  const tasks: CompiledTask[] = [];
  if (order) {
    const byId = new Map(entries);
    const ancestors = new Map<string, Set<string>>();
    for (const taskId of order) {
      const upstream = (byId.get(taskId)!.upstream ?? []).filter((u) => ids.has(u));
      ancestors.set(taskId, new Set(upstream.flatMap((u) => [u, ...ancestors.get(u)!])));
    }
    // Setups and teardowns pair by a direct edge; a task is in a setup's scope when it follows the
    // setup and one of the setup's teardowns follows it (or the setup has none), as in Airflow.
    const descendants = new Map<string, Set<string>>();
    for (const taskId of [...order].reverse()) {
      const below = entries.filter(([, t]) => (t?.upstream ?? []).includes(taskId)).map(([id]) => id);
      descendants.set(taskId, new Set(below.flatMap((d) => [d, ...descendants.get(d)!])));
    }
    const isSetup = (id: string) => byId.get(id)?.setup === true;
    const teardownsOf = (setup: string) => entries.filter(([, t]) => t.teardown && (t.upstream ?? []).includes(setup)).map(([id]) => id);
    const inScope = (taskId: string, setup: string) => {
      const teardowns = teardownsOf(setup);
      return !teardowns.length || teardowns.some((t) => descendants.get(taskId)!.has(t));
    };
    const params = Object.keys(file.params?.shape ?? {});
    const outputs = new Map(entries.map(([taskId, t]) => [taskId, { operator: t.operator, fields: outputFields(t, options.ownOutputs?.[taskId]) }]));
    for (const [taskId, definition] of entries) {
      const upstream = [...(definition.upstream ?? [])];
      const seen = [...ancestors.get(taskId)!];
      for (const template of templatesOf(definition)) {
        for (const problem of templateProblems(template, { params, upstream: seen, outputs })) problems.push(`task ${taskId}: ${problem}`);
      }
      tasks.push({
        taskId,
        definition,
        upstream,
        downstream: entries.filter(([, t]) => (t.upstream ?? []).includes(taskId)).map(([id]) => id),
        triggerRule: definition.teardown ? 'all_done_setup_success' : (definition.triggerRule ?? 'all_success'),
        teardown: definition.teardown ?? false,
        setup: definition.setup ?? false,
        setups: upstream.filter(isSetup),
        inScopeOf: definition.teardown ? [] : seen.filter((a) => isSetup(a) && !upstream.includes(a) && inScope(taskId, a)),
        ancestors: seen,
      });
    }
  }
  if (problems.length) throw new InvalidDagFile(dagId, problems);
  return { dagId, workflowType: file.workflowType ?? dagId, definition: dagDefinitionOf(file), file, tasks, order: order! };
}

/** The strings of a task that are templates: its doc, its inputs' and its operator's (none for an unknown operator, named by operatorProblems). */
export function templatesOf(task: TaskDefinition): string[] {
  return [...(task.doc ? [task.doc] : []), ...templatesIn(task.inputs ?? {}), ...(operatorOf(task)?.templates(task) ?? [])];
}

/** Kahn's algorithm, taking the file's order between tasks that are ready together; undefined for a cycle. */
function topologicalOrder(entries: Array<[string, TaskDefinition]>): string[] | undefined {
  const done = new Set<string>();
  const order: string[] = [];
  const known = new Set(entries.map(([id]) => id));
  while (order.length < entries.length) {
    const next = entries.find(([id, t]) => !done.has(id) && (t?.upstream ?? []).every((u) => done.has(u) || !known.has(u)));
    if (!next) return undefined;
    done.add(next[0]);
    order.push(next[0]);
  }
  return order;
}

/** One cycle of the graph, for the message. */
function cycleOf(entries: Array<[string, TaskDefinition]>): string[] {
  const upstream = new Map(entries.map(([id, t]) => [id, [...(t?.upstream ?? [])]]));
  const visit = (id: string, path: string[]): string[] | undefined => {
    const at = path.indexOf(id);
    if (at >= 0) return [...path.slice(at), id];
    for (const up of upstream.get(id) ?? []) {
      const found = visit(up, [...path, id]);
      if (found) return found;
    }
    return undefined;
  };
  for (const [id] of entries) {
    const found = visit(id, []);
    if (found) return found.reverse();
  }
  return [];
}

/** The DAG's own notifiers and deadline, checked as a task's are. */
function runSettingProblems(file: DagFileDefinition): string[] {
  const problems: string[] = [];
  for (const [key, schema] of [
    ['notifiers', z.array(notifier)],
    ['deadline', deadline],
  ] as const) {
    const value = (file as unknown as Record<string, unknown>)?.[key];
    if (value === undefined) continue;
    const parsed = schema.safeParse(value);
    if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${[key, ...i.path.map(String)].join('.')}: ${i.message}`));
  }
  return problems;
}
