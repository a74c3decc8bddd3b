/**
 * `baton/sdk`: what a DAG file imports. Pure and sandbox-safe: a DAG file is data and pure
 * functions, run by the engine in Temporal's workflow sandbox and checked by
 * `baton dags validate` before anything runs.
 *
 *   import { dag, loadCsv, ownTasks, sql, z } from 'baton/sdk';
 *   const own = ownTasks<typeof import('./activities')>();
 *   export default dag({ dagId: 'my_dag', schedule: '@daily', startDate: '2024-01-01' }, ({ ds }) => {
 *     const load = loadCsv('load', { file: 'raw/x_{{ ds }}.csv', table: 'examples.x', contract });
 *     own.report('report', { args: { ds, rows: load.rows } });
 *   });
 */
export { branch, command, dag, dbt, duckdb, empty, fileSensor, http, loadCsv, notify, ownTasks, result, shortCircuit, sql, sqlSensor } from './operators';
export type {
  DagResult,
  DagScope,
  DagSettings,
  OwnTaskBuilder,
  OwnTaskSettings,
  OwnTasks,
  Run,
  TaskCallback,
  TaskFunction,
  TaskOf,
  TaskSettings,
} from './operators';
export { firstOf, optional } from './refs';
export type { Inputs, InputValues, Ref, Refable, ValueOf } from './refs';
export { TRIGGER_RULES } from './types';
export type { DagFileDefinition, DefaultArgs, TaskCacheSettings, TaskOptions, TaskRecord, TaskState, TriggerRule } from './types';
export type {
  BranchOutput,
  CommandOutput,
  DbtOutput,
  DuckdbOutput,
  EmptyOutput,
  HttpOutput,
  LoadCsvOutput,
  NotifyOutput,
  SensorOutput,
  ShortCircuitOutput,
  SqlRowCountOutput,
} from './outputs';
export type { ColumnContract, ColumnSpec } from '../column-contract';
export type { TaskContext } from '../task/context';
export { z } from 'zod';
