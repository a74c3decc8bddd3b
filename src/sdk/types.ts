/**
 * A DAG as data: its definition and its tasks, settings with references as markers, and pure
 * functions of the run's context. What `dag(...)` (operators.ts) builds from a DAG file, what
 * the engine (workflows/engine.ts) runs and what `baton dags validate` checks (compile.ts).
 * Pure: bundled into the workflow sandbox.
 */
import type { z } from 'zod';
import type { ColumnContract } from '../column-contract';
import type { RefMarker } from './refs';
import type { TemplateContext } from './templates';

/** When a task runs, given its upstream tasks' states: Airflow's trigger rules. */
export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'none_failed',
  'none_failed_min_one_success',
  'none_skipped',
  'always',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** A task's retries and limits; default_args gives them to every task, a task may override each. */
export interface TaskOptions {
  /** Retries after the first try, as in Airflow (`retries: 2` is 3 attempts). */
  retries?: number;
  /** The delay before the first retry; Temporal duration string (`30s`, `5m`). */
  retryDelay?: string;
  /** Double the delay at each retry (Airflow's retry_exponential_backoff)... */
  retryExponentialBackoff?: boolean;
  /** ...up to this delay (Airflow's max_retry_delay). */
  maxRetryDelay?: string;
  /** The most one try may take (Airflow's execution_timeout); 1 hour by default. */
  executionTimeout?: string;
  /** Airflow's priority_weight: a higher weight is served first when workers are busy. */
  priorityWeight?: number;
  /** Mail when the task fails for good, when it is retried, or when it succeeds. */
  onFailure?: TaskCallback;
  onRetry?: TaskCallback;
  onSuccess?: TaskCallback;
}

/** A callback is a mail (Airflow's email_on_failure, done per task) or a user task of the DAG. */
export type TaskCallback = { notify: string[] } | { task: string };

export interface DefaultArgs extends TaskOptions {
  owner?: string;
  /** Each run waits for the previous interval's run to succeed. */
  dependsOnPast?: boolean;
  /** Who gets the run's failure mail (email_on_failure). */
  email?: string[];
  emailOnFailure?: boolean;
  emailOnRetry?: boolean;
}

/** What a branch or short-circuit function, or a DAG's `result`, is given. */
export interface RunContext extends TemplateContext {
  dagId: string;
  /** Each finished task's state. */
  states: Record<string, string>;
  /** Each cached task's cache outcome: hit, miss, expired, vanished or refresh. */
  cached: Record<string, string>;
}

export interface TaskBase extends TaskOptions {
  /** The tasks this one runs after: those it names and those whose output it reads. */
  upstream?: readonly string[];
  /** The references its functions read, by name. */
  inputs?: Record<string, RefMarker>;
  /** `all_success` by default. */
  triggerRule?: TriggerRule;
  /**
   * A teardown runs once everything upstream of it is done, whatever happened (a failed run
   * included), and its own failure does not fail the run: clean-up, as Airflow's teardown tasks.
   */
  teardown?: boolean;
  /** What the task does (templated): the line the Web UI shows for its activity, and `baton dags show`'s. */
  doc?: string;
  /**
   * Skips the task when it returns a reason (Airflow's @task.skip_if): a pure function of the
   * run's context, asked when the task's trigger rule is met. Downstream tasks then follow their rules.
   */
  skipIf?: (run: RunContext) => string | false | undefined;
  /** What the task table and the Web UI show of its output; its scalar fields by default. */
  summary?: (output: never) => Record<string, string | number>;
}

export interface SqlTask extends TaskBase {
  operator: 'sql';
  /** A connection name (BATON_CONN_<NAME>, or `warehouse` for Baton's own database). */
  conn: string;
  /** The statement, or `{ file }` relative to the DAG's folder; placeholders become bound parameters. */
  sql: string | { file: string };
  /** `rowCount` (the default), `firstRow` (its columns as the output) or `none`. */
  output?: 'rowCount' | 'firstRow' | 'none';
}

export interface LoadCsvTask extends TaskBase {
  operator: 'loadCsv';
  /** The file under the data directory (templated): `raw/customers_{{ ds }}.csv`. */
  file: string;
  contract: ColumnContract;
  /** The target table, `schema.table`; created from the contract when missing. */
  table: string;
  /** `replace` (the default): the table's rows become the file's; `partition`: only the run's ds. */
  mode?: 'replace' | 'partition';
  /** The share of records that may be rejected before the load is refused; 0.05 by default. */
  maxRejectedRatio?: number;
  /** A file with a header and no records fails the task (the table is left as it was) unless this is true. */
  allowEmpty?: boolean;
}

export interface DbtTask extends TaskBase {
  operator: 'dbt';
  command: 'run' | 'build' | 'test' | 'seed';
  select?: string;
  exclude?: string;
  /** dbt --vars (templated); `ds` is always passed. */
  vars?: Record<string, unknown>;
  target?: string;
  /** The dbt project folder, relative to the DAG's folder; the project's `dbt/` by default. */
  project?: string;
}

export interface CommandTask extends TaskBase {
  operator: 'command';
  /** The program and its arguments (templated); never through a shell. */
  argv: readonly string[];
  env?: Record<string, string>;
  /** The working folder, relative to the project root (it must stay inside). */
  cwd?: string;
}

export interface HttpTask extends TaskBase {
  operator: 'http';
  /** A connection name whose URL is the base (BATON_CONN_<NAME>=https://...). */
  conn: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path under the connection's URL (templated). */
  path: string;
  json?: unknown;
  /** The statuses that count as success; 2xx by default. 5xx is retried, other statuses fail. */
  expectStatus?: number | readonly number[];
}

export interface DuckdbTask extends TaskBase {
  operator: 'duckdb';
  /** A SELECT over files under the data directory (templated paths). */
  sql: string;
  /** The Parquet file it writes (templated), published atomically. */
  output: string;
}

export interface FileSensorTask extends TaskBase {
  operator: 'fileSensor';
  /** The path under the data directory (templated). */
  path: string;
  /** How long the file must stay unchanged; `5s` by default. */
  settle?: string;
  /** `reschedule` (the default: a timer between checks), `poke` (one long activity) or `deferrable` (local checks). */
  mode?: 'poke' | 'reschedule' | 'deferrable';
  pokeInterval?: string;
  timeout?: string;
  softFail?: boolean;
}

export interface SqlSensorTask extends TaskBase {
  operator: 'sqlSensor';
  conn: string;
  /** Succeeds when the first column of the first row is truthy (templated, bound parameters). */
  sql: string;
  mode?: 'reschedule' | 'deferrable';
  pokeInterval?: string;
  timeout?: string;
  softFail?: boolean;
}

export interface BranchTask extends TaskBase {
  operator: 'branch';
  /** The task ids to follow (immediately downstream of this one); the others are skipped. */
  choose: (run: RunContext) => string | readonly string[];
}

export interface ShortCircuitTask extends TaskBase {
  operator: 'shortCircuit';
  /** False: everything downstream is skipped. */
  condition: (run: RunContext) => boolean;
}

export interface NotifyTask extends TaskBase {
  operator: 'notify';
  to: readonly string[];
  subject: string;
  body: string;
}

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
}

export interface EmptyTask extends TaskBase {
  operator: 'empty';
}

export type TaskDefinition =
  | SqlTask
  | LoadCsvTask
  | DbtTask
  | CommandTask
  | HttpTask
  | DuckdbTask
  | FileSensorTask
  | SqlSensorTask
  | BranchTask
  | ShortCircuitTask
  | NotifyTask
  | UserTask
  | EmptyTask;

export type Operator = TaskDefinition['operator'];

/** A DAG file's default export. */
export interface DagFileDefinition<P extends z.ZodObject = z.ZodObject> {
  dagId: string;
  description?: string;
  /** A cron (or a preset such as @daily), in `timezone`: at most one run a day. */
  schedule: string;
  timezone?: string;
  timetable?: 'interval' | 'trigger';
  startDate: string;
  endDate?: string;
  catchup?: boolean;
  /** Create the schedule paused (Airflow's is_paused_upon_creation): for a DAG that needs a connection set up first. */
  pausedOnCreation?: boolean;
  /** Runs at once over scheduled, manual and backfill runs; 16 by default (Airflow's), null: no limit. */
  maxActiveRuns?: number | null;
  tags?: readonly string[];
  /** The run's params, with their defaults; `--conf` overrides them and is validated against them. */
  params?: P;
  defaultArgs?: DefaultArgs;
  /** The workflow type its runs have; the DAG id by default. */
  workflowType?: string;
  tasks: Record<string, TaskDefinition>;
  /**
   * The run's result from its tasks' outputs; `{ dagId, ds, state, tasks }` always. The state is
   * `success_with_skips` when a task was skipped, unless the result says which of the two it is
   * (a branch not taken may be the run's ordinary path).
   */
  result?: (run: RunContext) => Record<string, unknown> & { state?: 'success' | 'success_with_skips' };
}

/** A task's state in a run's task table. */
export type TaskState = 'scheduled' | 'queued' | 'running' | 'success' | 'failed' | 'skipped' | 'upstream_failed';

export interface TaskRecord {
  taskId: string;
  state: TaskState;
  /** Workflow time, ISO 8601. */
  startedAt?: string;
  durationMs?: number;
  /** The task's key output: row counts, model states. XCom's role. */
  output?: Record<string, string | number>;
  error?: string;
}
