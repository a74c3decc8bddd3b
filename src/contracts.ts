/**
 * The public contract between clients, workflows and activities: names that users type in
 * the Temporal CLI, and the one input and one output type of every workflow and activity.
 * Pure types and constants: imported by the workflow bundle, so no I/O here.
 */

export * from './constants';
export * from './orders-pipeline-contracts';
export * from './scheduling-contracts';

/** Airflow's dag_run.conf: free-form JSON a run is triggered with, bounded in size. */
export type DagRunConf = Record<string, unknown>;
export const MAX_CONF_BYTES = 64 * 1024;

/** What every DAG run workflow takes. */
export interface DagRunInput {
  /** Logical date, YYYY-MM-DD (Airflow's `ds`). */
  ds: string;
  conf?: DagRunConf;
  /**
   * A one-off run on a worker of its own (`baton dags test`): as Airflow's `dags test`, it takes
   * no max_active_runs slot and no pool slot (their keepers live beside the project's worker).
   */
  test?: boolean;
}

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

// ---- orders_daily_etl -------------------------------------------------------------------

/** Where a run of orders_daily_etl reads the day's orders: the CSV file (default) or the source database. */
export const ORDERS_SOURCES = ['file', 'db'] as const;
export type OrdersSource = (typeof ORDERS_SOURCES)[number];

export interface OrdersDailyEtlInput extends DagRunInput {
  /** `db` waits for and extracts the day's rows of source.orders on conn_id postgres_prod. */
  source?: OrdersSource;
}

export interface OrdersDailyEtlResult {
  dagId: string;
  ds: string;
  state: 'success' | 'success_with_skips';
  rowCount: number;
  loadedRows: number;
  rejectedRows: number;
  models: DbtModelResult[];
  tasks: TaskRecord[];
}

export interface PartitionInput {
  ds: string;
}

export interface ExtractFromDbInput {
  ds: string;
  /** Airflow's conn_id of the source database; the warehouse by default. */
  connId?: string;
}

/** How a file's physical lines were read (the CSV reader's account): counts only. */
export interface LineAccount {
  lines: number;
  header: number;
  blank: number;
  /** Records read as fields, and the lines they span. */
  records: number;
  recordLines: number;
  /** Malformed records, rejected with their first line each. */
  malformed: number;
}

export interface ExtractResult {
  /** Records in the file (loaded + rejected), header excluded (XCom `row_count`). */
  rowCount: number;
  file: string;
  bytes: number;
  stagingTable: string;
  /** Records that passed the column contract, and records rejected (malformed or breaking it). */
  stagedRows?: number;
  stagedRejects?: number;
  /** Every line of the file: header + blank + lines of loaded records + lines of rejected records. */
  lines?: LineAccount;
  loadedLines?: number;
  rejectedLines?: number;
}

export interface TransformInput {
  ds: string;
  /** Pulled from extract's result, as transform pulls `row_count` from XCom. */
  rowCount: number;
  /** What extract staged (absent in runs started before they were passed). */
  stagedRows?: number;
  stagedRejects?: number;
}

export interface TransformResult {
  cleanRows: number;
  rejectedRows: number;
  cleanTable: string;
  rejectedTable: string;
  /** Records rejected by the key rule (a second record of one order_id). */
  duplicates?: number;
}

export interface LoadInput {
  ds: string;
  /** The audit: records in the file, and what transform left to publish. */
  rowCount?: number;
  cleanRows?: number;
  rejectedRows?: number;
  /** The share of rejected records above which the day is not published (the DAG's max_rejected_ratio). */
  maxRejectedRatio?: number;
}

export interface LoadResult {
  loadedRows: number;
  rejectedRows: number;
  /** Rows of the ds partition replaced by this load. */
  replacedRows: number;
}

export interface ValidateInput {
  ds: string;
  rowCount: number;
  /** extract's account of the file's lines, checked against the published rows and rejects. */
  lines?: LineAccount;
}

export interface ValidateResult {
  checksPassed: number;
}

export interface DbtRunInput {
  ds: string;
  /** dbt selector, e.g. `tag:orders`. */
  select: string;
  target: 'dev' | 'prod';
}

export interface DbtModelResult {
  model: string;
  status: string;
  executionTimeSeconds: number;
  message?: string;
}

export interface DbtRunResult {
  models: DbtModelResult[];
}

export interface AlertInput {
  dagId: string;
  ds: string;
  subject: string;
  body: string;
  to: string[];
}

export interface AlertResult {
  delivered: 'logged' | 'mailed';
}

/** Worker-side settings a run reads once, through a local activity, so they land in history. */
export interface RunSettings {
  retryDelay?: string;
  maximumAttempts?: number;
  dbtTarget: 'dev' | 'prod';
  /** How often depends_on_past looks at the previous run (Temporal duration string). */
  dependsOnPastPoll?: string;
  /** How often a run waiting for a pool slot sends its request again. */
  slotRefresh?: string;
  /**
   * What the worker that started the run does (absent: 1). 2: run and task slots from pool
   * keepers, by token; depends_on_past passes when there is no previous run.
   */
  protocol?: number;
  /** Overrides of sensors' poke_interval / timeout and of file settle times (duration strings). */
  sensorPokeInterval?: string;
  sensorTimeout?: string;
  fileSettle?: string;
  /** Overrides the data tasks' heartbeat timeout: how soon a task on a dead worker starts again. */
  heartbeatTimeout?: string;
}
