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
export { dag, group, result } from './dag';
export type { DagResult, DagScope, DagSettings, Group, GroupSettings, Run, TaskCallback, TaskOf, TaskSettings } from './dag';
export { firstOf, optional } from './refs';
export type { Inputs, InputValues, Ref, Refable, ValueOf } from './refs';
export { TRIGGER_RULES } from './types';
export type { DagFileDefinition, Deadline, DefaultArgs, Notifier, NotifierEvent, TaskOptions, TaskRecord, TaskState, TriggerRule } from './types';
export type { AssetCondition, AssetSchedule } from './assets';
// The operators (src/operators/<name>/definition.ts): each one's builder and output type.
export { approval, type ApprovalChoiceOutput, type ApprovalEntryOutput, type ApprovalOutput } from '../operators/approval/definition';
export { branch, type BranchOutput } from '../operators/branch/definition';
export { command, type CommandOutput } from '../operators/command/definition';
export { dbt, type DbtOutput } from '../operators/dbt/definition';
export { duckdb, type DuckdbOutput } from '../operators/duckdb/definition';
export { empty, type EmptyOutput } from '../operators/empty/definition';
export { fileSensor } from '../operators/file-sensor/definition';
export { http, type HttpOutput } from '../operators/http/definition';
export { loadCsv, type LoadCsvOutput } from '../operators/load-csv/definition';
export { notify, type NotifyOutput } from '../operators/notify/definition';
export { shortCircuit, type ShortCircuitOutput } from '../operators/short-circuit/definition';
export { sql, type SqlRowCountOutput } from '../operators/sql/definition';
export { sqlSensor } from '../operators/sql-sensor/definition';
export { triggerDag, type TriggerDagOutput } from '../operators/trigger-dag/definition';
export { waitForDag, type WaitForDagOutput } from '../operators/wait-for-dag/definition';
export { ownTasks } from '../operators/task/definition';
export type { OwnTaskBuilder, OwnTaskSettings, OwnTasks, TaskCacheSettings, TaskFunction } from '../operators/task/definition';
export type { SensorOutput } from '../operators/common';
export type { ColumnContract, ColumnSpec } from '../column-contract';
export type { TaskContext } from '../task/context';
export { z } from 'zod';
