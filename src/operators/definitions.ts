/**
 * The operators, by name: each one's pure part (its definition.ts), which the SDK, `baton dags
 * validate` (src/sdk/compile.ts) and the engine read. This table names the operators: the
 * workflow steps (steps.ts) and the activities (activities.ts) are tables typed by these names,
 * so an operator left out of either does not compile. Pure: the SDK and the workflow sandbox
 * import it, and it imports no step and no activity.
 */
import type { z } from 'zod';
import type { TaskBase } from '../sdk/types';
import { approvalDefinition } from './approval/definition';
import { branchDefinition } from './branch/definition';
import { commandDefinition } from './command/definition';
import { dbtDefinition } from './dbt/definition';
import { duckdbDefinition } from './duckdb/definition';
import { emptyDefinition } from './empty/definition';
import { fileSensorDefinition } from './file-sensor/definition';
import { httpDefinition } from './http/definition';
import { loadCsvDefinition } from './load-csv/definition';
import { notifyDefinition } from './notify/definition';
import { shortCircuitDefinition } from './short-circuit/definition';
import { sqlDefinition } from './sql/definition';
import { sqlSensorDefinition } from './sql-sensor/definition';
import { taskDefinition } from './task/definition';
import { triggerDagDefinition } from './trigger-dag/definition';
import { waitForDagDefinition } from './wait-for-dag/definition';

/** What the template checks know of a DAG's own task's output: the fields tsc read from its function's type, or `*`. */
export type OwnOutputFields = readonly string[] | '*';

/**
 * An operator's pure part: T is its task's settings as data (with `operator: '<name>'`), O the
 * output its task hands downstream (the type a reference to the task carries).
 */
export interface OperatorDefinition<T extends TaskBase & { operator: string }, O> {
  /** Its name, as a task's `operator`. */
  operator: T['operator'];
  /** Its settings' schema, checked before anything runs: each problem names the field and what was expected. */
  settings: z.ZodType;
  /**
   * The fields of its output that templates may read (`{{ xcom.<task>.<field> }}`), or, when they
   * depend on the task's settings, a function of them: `*` when any field may be there.
   */
  outputFields: readonly (keyof O & string)[] | ((task: T, own: OwnOutputFields | undefined) => OwnOutputFields);
  /** Its templated fields: the template strings among a task's settings, checked against what the task can see. */
  templates: (task: T) => readonly string[];
}

/** The table, each operator filed under its name: an entry under another's name does not compile. */
function byName<D extends { [K in keyof D]: { operator: K } }>(definitions: D): D {
  return definitions;
}

/** Every operator, in the order `baton dags validate` lists them. */
export const OPERATORS = byName({
  sql: sqlDefinition,
  loadCsv: loadCsvDefinition,
  dbt: dbtDefinition,
  command: commandDefinition,
  http: httpDefinition,
  duckdb: duckdbDefinition,
  fileSensor: fileSensorDefinition,
  sqlSensor: sqlSensorDefinition,
  branch: branchDefinition,
  shortCircuit: shortCircuitDefinition,
  approval: approvalDefinition,
  notify: notifyDefinition,
  task: taskDefinition,
  triggerDag: triggerDagDefinition,
  waitForDag: waitForDagDefinition,
  empty: emptyDefinition,
});

export type OperatorName = keyof typeof OPERATORS;

type Tasks = { [K in OperatorName]: (typeof OPERATORS)[K] extends OperatorDefinition<infer T, infer _O> ? T : never };

/** The settings of a task of operator K, as data. */
export type TaskOfOperator<K extends OperatorName> = Tasks[K];

/** A task of a DAG file: one operator's settings. */
export type TaskDefinition = Tasks[OperatorName];

/**
 * The definition of a task's operator, or undefined when no operator has its name: a DAG file
 * is data until compiled, and compile names an unknown operator.
 */
export function operatorOf<T extends TaskDefinition>(task: T): OperatorDefinition<T, unknown> | undefined {
  if (!Object.hasOwn(OPERATORS, task.operator)) return undefined;
  // The table's type pairs each name with the definition of its tasks.
  return OPERATORS[task.operator as OperatorName] as unknown as OperatorDefinition<T, unknown>;
}

/** What is wrong with a task's settings, each problem naming the field. */
export function operatorProblems(task: TaskDefinition): string[] {
  const definition = operatorOf(task);
  if (!definition) return [`unknown operator ${JSON.stringify(task.operator)}; known: ${Object.keys(OPERATORS).join(', ')}`];
  const parsed = definition.settings.safeParse(task);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const field = issue.path.join('.');
    const where = `${task.operator}${field ? ` ${field}` : ''}`;
    if (issue.code === 'unrecognized_keys') return `${where}: unknown setting ${issue.keys.join(', ')}`;
    return `${where}: ${issue.message}`;
  });
}
