/**
 * The public contract between clients, workflows and activities: names that users type in
 * the Temporal CLI, and the one input and one output type of every workflow and activity.
 * Pure types and constants: imported by the workflow bundle, so no I/O here.
 */

export const TASK_QUEUE = 'etl';

export const WorkflowTypes = {
  ordersDailyEtl: 'ordersDailyEtl',
} as const;

export const Queries = {
  /** The run's task table, as Airflow's grid view shows it. */
  tasks: 'tasks',
} as const;

export type TaskState = 'scheduled' | 'running' | 'success' | 'failed' | 'skipped' | 'upstream_failed';

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

export interface OrdersDailyEtlInput {
  /** Logical date, YYYY-MM-DD (Airflow's `ds`). */
  ds: string;
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

export interface ExtractResult {
  /** Rows copied into staging, header excluded (XCom `row_count`). */
  rowCount: number;
  file: string;
  bytes: number;
  stagingTable: string;
}

export interface TransformInput {
  ds: string;
  /** Pulled from extract's result, as transform pulls `row_count` from XCom. */
  rowCount: number;
}

export interface TransformResult {
  cleanRows: number;
  rejectedRows: number;
  cleanTable: string;
  rejectedTable: string;
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
}
