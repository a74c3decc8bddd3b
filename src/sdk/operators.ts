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
  TaskDefinition,
  UserTask,
} from './types';
import type { z } from 'zod';

type Settings<T> = Omit<T, 'operator'>;

/** An operator's builder: its settings, tagged with its name. */
const operator =
  <T extends TaskDefinition>(name: T['operator']) =>
  (settings: Settings<T>): T =>
    ({ operator: name, ...settings }) as T;

/** A DAG file's default export: `export default dag({ dagId, schedule, startDate, tasks: { ... } })`. */
export const dag = <P extends z.ZodObject>(definition: DagFileDefinition<P>): DagFileDefinition<P> => definition;

/** SQL on a named connection; `{{ }}` placeholders are bound parameters. Output: `{ rows }` or the first row. */
export const sql = operator<SqlTask>('sql');

/** A CSV file under a column contract into a table: write, audit, publish. Output: `{ rows, rejected, table }`. */
export const loadCsv = operator<LoadCsvTask>('loadCsv');

/** dbt run, build, test or seed. Output: each node's status. */
export const dbt = operator<DbtTask>('dbt');

/** A program with an argument array, no shell (Airflow's BashOperator done safely). Output: `{ exitCode, tail }`. */
export const command = operator<CommandTask>('command');

/** An HTTP call on a named connection. Output: `{ status, json | text }`, capped. */
export const http = operator<HttpTask>('http');

/** DuckDB SQL over files, to one Parquet file published atomically. Output: `{ rows, path }`. */
export const duckdb = operator<DuckdbTask>('duckdb');

/** Waits for a file under the data directory (Airflow's FileSensor). */
export const fileSensor = operator<FileSensorTask>('fileSensor');

/** Waits until a query's first value is truthy (Airflow's SqlSensor). */
export const sqlSensor = operator<SqlSensorTask>('sqlSensor');

/** Follows the task ids `choose` returns (Airflow's BranchPythonOperator); the others are skipped. */
export const branch = operator<BranchTask>('branch');

/** Skips everything downstream when `condition` is false (Airflow's ShortCircuitOperator). */
export const shortCircuit = operator<ShortCircuitTask>('shortCircuit');

/** A mail (templated subject and body). */
export const notify = operator<NotifyTask>('notify');

/** The user's own activity, exported by the DAG's activities module (Airflow's TaskFlow @task). */
export const task = operator<UserTask>('task');

/** Does nothing: a join or a marker (Airflow's EmptyOperator). */
export const empty = (settings: Settings<EmptyTask> = {}): EmptyTask => operator<EmptyTask>('empty')(settings);
