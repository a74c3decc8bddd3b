/**
 * The operators a DAG file's tasks are made of. Each returns its task as data: the engine
 * (workflows/engine.ts) runs it as one configured activity (or, for branch and shortCircuit, a
 * pure function in the workflow), with the retries, timeouts and heartbeats of Baton's own tasks.
 */
import type {
  BranchTask,
  CommandTask,
  DagFileDefinition,
  DbtTask,
  DuckdbTask,
  EmptyTask,
  FileSensorTask,
  HttpTask,
  LoadCsvTask,
  NotifyTask,
  ShortCircuitTask,
  SqlSensorTask,
  SqlTask,
  UserTask,
} from './types';
import type { z } from 'zod';

type Settings<T> = Omit<T, 'operator'>;

/** A DAG file's default export: `export default dag({ dagId, schedule, startDate, tasks: { ... } })`. */
export const dag = <P extends z.ZodObject>(definition: DagFileDefinition<P>): DagFileDefinition<P> => definition;

/** SQL on a named connection; `{{ }}` placeholders are bound parameters. Output: `{ rows }` or the first row. */
export const sql = (settings: Settings<SqlTask>): SqlTask => ({ operator: 'sql', ...settings });

/** A CSV file under a column contract into a table: write, audit, publish. Output: `{ rows, rejected, table }`. */
export const loadCsv = (settings: Settings<LoadCsvTask>): LoadCsvTask => ({ operator: 'loadCsv', ...settings });

/** dbt run, build, test or seed. Output: each node's status. */
export const dbt = (settings: Settings<DbtTask>): DbtTask => ({ operator: 'dbt', ...settings });

/** A program with an argument array, no shell (Airflow's BashOperator done safely). Output: `{ exitCode, tail }`. */
export const command = (settings: Settings<CommandTask>): CommandTask => ({ operator: 'command', ...settings });

/** An HTTP call on a named connection. Output: `{ status, json | text }`, capped. */
export const http = (settings: Settings<HttpTask>): HttpTask => ({ operator: 'http', ...settings });

/** DuckDB SQL over files, to one Parquet file published atomically. Output: `{ rows, path }`. */
export const duckdb = (settings: Settings<DuckdbTask>): DuckdbTask => ({ operator: 'duckdb', ...settings });

/** Waits for a file under the data directory (Airflow's FileSensor). */
export const fileSensor = (settings: Settings<FileSensorTask>): FileSensorTask => ({ operator: 'fileSensor', ...settings });

/** Waits until a query's first value is truthy (Airflow's SqlSensor). */
export const sqlSensor = (settings: Settings<SqlSensorTask>): SqlSensorTask => ({ operator: 'sqlSensor', ...settings });

/** Follows the task ids `choose` returns (Airflow's BranchPythonOperator); the others are skipped. */
export const branch = (settings: Settings<BranchTask>): BranchTask => ({ operator: 'branch', ...settings });

/** Skips everything downstream when `condition` is false (Airflow's ShortCircuitOperator). */
export const shortCircuit = (settings: Settings<ShortCircuitTask>): ShortCircuitTask => ({ operator: 'shortCircuit', ...settings });

/** A mail (templated subject and body). */
export const notify = (settings: Settings<NotifyTask>): NotifyTask => ({ operator: 'notify', ...settings });

/** The user's own activity, exported by the DAG's activities module (Airflow's TaskFlow @task). */
export const task = (settings: Settings<UserTask>): UserTask => ({ operator: 'task', ...settings });

/** Does nothing: a join or a marker (Airflow's EmptyOperator). */
export const empty = (settings: Settings<EmptyTask> = {}): EmptyTask => ({ operator: 'empty', ...settings });
