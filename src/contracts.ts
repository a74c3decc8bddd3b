/**
 * The public contract between clients, workflows and activities: names that users type in
 * the Temporal CLI, and the one input and one output type of every workflow and activity.
 * Pure types and constants: imported by the workflow bundle, so no I/O here.
 */

export const TASK_QUEUE = 'etl';

export const WorkflowTypes = {
  ordersDailyEtl: 'ordersDailyEtl',
  /** A DAG of no-op tasks: measures orchestration itself (benchmarks, scheduling tests). */
  noopDag: 'noopDag',
  /** What a Temporal Schedule starts: derives ds from the fire time and starts `<dag_id>-<ds>`. */
  scheduledDagRun: 'scheduledDagRun',
  /** max_active_runs of keepers started before pools: one per DAG (kept for their runs). */
  dagRunSlots: 'dagRunSlots',
  /** A pool's slot keeper: max_active_runs of one DAG, or a named pool shared by tasks of any DAG. */
  poolSlots: 'poolSlots',
  /** `baton backfill`: runs each logical date of a range once, durable. */
  dagBackfill: 'dagBackfill',
  /** The Prefect flow `orders-etl`: CSV to clean Parquet, with cached extract. */
  ordersPipeline: 'ordersPipeline',
} as const;

export const Queries = {
  /** The run's task table, as Airflow's grid view shows it. */
  tasks: 'tasks',
  /** A backfill's progress. */
  progress: 'progress',
} as const;

export const Signals = {
  acquireSlot: 'acquireSlot',
  releaseSlot: 'releaseSlot',
  slotGranted: 'slotGranted',
} as const;

/** Custom search attributes on every DAG run (registered by the dev server start-up). */
export const SearchAttributeNames = {
  dag: 'BatonDag',
  ds: 'BatonDs',
  tags: 'BatonTags',
  /** The pools a run holds slots of now (keyword list): how a restarted keeper finds its holders. */
  pools: 'BatonPools',
  /** The slots a run holds, `<pool>|<token>|<slots>` each (keyword list). */
  slots: 'BatonSlots',
} as const;

/**
 * Baton's Prometheus metrics, served with Temporal's own on the worker's metrics port. Labels
 * are bounded (dag_id, task_id, state): never a ds, a run id or a file name.
 */
export const MetricNames = {
  /** Counter of DAG runs that ended, by dag_id and state (success, failed). */
  dagRuns: 'baton_dag_runs',
  /** Histogram of task durations in seconds, by dag_id, task_id and end state. */
  taskDuration: 'baton_task_duration_seconds',
  /** Counters of rows `load` wrote to the warehouse and to its rejects table, by dag_id. */
  rowsLoaded: 'baton_rows_loaded',
  rowsRejected: 'baton_rows_rejected',
} as const;

/** Task durations run from a second (check_data) to an hour (a sensor's timeout). */
export const TASK_DURATION_BUCKETS_SECONDS = [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600];

export const slotsWorkflowId = (dagId: string) => `baton-slots-${dagId}`;
export const poolWorkflowId = (pool: string) => `baton-pool-${pool}`;
/** The pool that is a DAG's max_active_runs. */
export const runsPool = (dagId: string) => `max_active_runs:${dagId}`;
export const backfillWorkflowId = (dagId: string, from: string, to: string) => `baton-backfill-${dagId}-${from}-${to}`;

/** Airflow's dag_run.conf: free-form JSON a run is triggered with, bounded in size. */
export type DagRunConf = Record<string, unknown>;
export const MAX_CONF_BYTES = 64 * 1024;

/** What every DAG run workflow takes. */
export interface DagRunInput {
  /** Logical date, YYYY-MM-DD (Airflow's `ds`). */
  ds: string;
  conf?: DagRunConf;
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

// ---- scheduling -------------------------------------------------------------------------------

export type RunStatus = 'NOT_FOUND' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW' | 'UNKNOWN';

/** The states in which a run ended without succeeding. */
export const UNSUCCESSFUL: readonly RunStatus[] = ['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'];

/** A Temporal execution status name as a RunStatus (a paused run is still running). */
export function toRunStatus(name: string): RunStatus {
  if (name === 'PAUSED') return 'RUNNING';
  if (name === 'UNSPECIFIED') return 'UNKNOWN';
  return name as RunStatus;
}

/** Airflow 3's reprocess behaviour: whether a backfill runs a date whose latest run is in `status`. */
export function backfillRuns(status: RunStatus, rerun: RerunPolicy): boolean {
  return status === 'NOT_FOUND' || (status === 'COMPLETED' && rerun === 'all') || (UNSUCCESSFUL.includes(status) && rerun !== 'none');
}

/** The memo a backfill gives each run it starts (shown in the Web UI). */
export interface BackfillMemo {
  backfill: { workflowId: string; maxActive: number };
}

export interface RunRef {
  workflowId: string;
  runId: string;
}

/** A run queued for a slot: its logical date orders the queue. */
export type SlotHolder = RunRef & {
  ds: string;
  /**
   * The run comes from a backfill that starts its dates oldest first and keeps no more of them
   * in flight than the DAG has slots: it is granted a free slot at once, with no gathering of
   * other arrivals.
   */
  ordered?: boolean;
};

export interface SlotRequest {
  dagId: string;
  capacity: number;
  holder: SlotHolder;
}

/** A slot request to a pool: who asks (by run and token), how many slots, and how urgently. */
export interface PoolSlotRequest {
  pool: string;
  capacity: number;
  /** Given by the first request (recorded in the run's history, so a reset run keeps it); sent again with every re-request. */
  token?: string;
  holder: PoolHolder;
}

export interface PoolHolder {
  workflowId: string;
  runId: string;
  token: string;
  /** The run's logical date (older first within one priority). */
  ds: string;
  /** Airflow's pool_slots. */
  slots: number;
  /** Airflow's priority_weight: higher goes first. */
  priority: number;
  /** The task holding it, or absent for a whole run (max_active_runs). */
  taskId?: string;
  /** A backfill's run, started oldest first: granted without gathering other arrivals. */
  ordered?: boolean;
}

export interface PoolGrant {
  pool: string;
  token: string;
}

export interface PoolHoldersInput {
  pool: string;
}

export interface PoolHoldersResult {
  holders: PoolHolder[];
}

export interface HolderLivenessInput {
  holders: Array<Pick<PoolHolder, 'workflowId' | 'runId' | 'token'>>;
}

export interface HolderLivenessResult {
  /** token: the run id now holding it (a reset run keeps its slot), or null if no running run holds it. */
  holders: Record<string, string | null>;
}

export interface RunStatusInput {
  workflowIds: string[];
}

export interface RunStatusResult {
  statuses: Record<string, RunStatus>;
}

/** What a schedule hands its scheduledDagRun: the DAG's timetable, taken from its definition at sync time. */
export interface ScheduledDagRunInput {
  dagId: string;
  workflowType: string;
  schedule: string;
  timezone: string;
  timetable: 'interval' | 'trigger';
  startDate: string;
  endDate?: string;
  /** catchup=False: a fire whose next fire has come already (missed in an outage) is superseded. */
  catchup?: boolean;
  /** Extra input fields for the DAG run (for DAGs that take more than ds and conf). */
  args?: Record<string, unknown>;
}

export interface ScheduledDagRunResult {
  ds?: string;
  workflowId?: string;
  /**
   * `superseded`: catchup=False and a later interval has fired since (an outage); only the
   * latest missed interval runs. `not_a_fire_time`: Temporal fired at a time the cron does not.
   */
  outcome: 'started' | 'already_exists' | 'outside_start_end' | 'superseded' | 'not_a_fire_time';
}

export type RerunPolicy = 'none' | 'failed' | 'all';

export interface BackfillInput {
  dagId: string;
  workflowType: string;
  dates: string[];
  maxActive: number;
  rerun: RerunPolicy;
  args?: Record<string, unknown>;
  /** Dates decided per workflow history before continuing as new (default 250). */
  datesPerRun?: number;
  /** Carried across continue-as-new. */
  cursor?: number;
  progress?: BackfillProgress;
}

export interface BackfillProgress {
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  skipped: number;
  running: string[];
  failedDates: string[];
  /** Epoch ms, workflow time. */
  startedAt: number;
  finishedAt?: number;
}

// ---- orders-etl, the Prefect flow ---------------------------------------------------------------

/** orders_pipeline(start_date="2024-01-01"): the flow's default parameter. */
export const DEFAULT_START_DATE = '2024-01-01';

export interface OrdersPipelineInput {
  /** The day to process, YYYY-MM-DD; 2024-01-01 by default, as the flow's parameter. */
  startDate?: string;
  /** How schedules, `baton trigger` and backfills pass the date. */
  ds?: string;
  /** Bypass the cache: run every cached task and store fresh results. */
  refreshCache?: boolean;
  /** extract_data's cache policy: `inputs+file` (the default) or `inputs` (Prefect's task_input_hash). */
  cachePolicy?: CachePolicy;
}

/** A file under the data directory that one task hands the next: never the data itself. */
export interface FileRef {
  /** Relative to the data directory. */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** `inputs` is Prefect's task_input_hash; `inputs+file` also keys on the input file's content. */
export const CACHE_POLICIES = ['inputs', 'inputs+file'] as const;
export type CachePolicy = (typeof CACHE_POLICIES)[number];
export type CacheStatus = 'hit' | 'miss' | 'expired' | 'vanished' | 'refresh';

export interface CacheLookupInput {
  task: string;
  policy: CachePolicy;
  inputs: Record<string, unknown>;
  /** The input file (relative to the data directory) whose content `inputs+file` keys on. */
  inputFile?: string;
  /** Workflow time, ms: what expiry is judged against. */
  now: number;
  refresh?: boolean;
}

export interface CacheLookupResult {
  key: string;
  status: CacheStatus;
  reason?: string;
  fileSha256?: string;
  storedAt?: string;
  expiresAt?: string;
  result?: FileRef;
}

export interface CacheStoreInput {
  key: string;
  task: string;
  policy: CachePolicy;
  inputs: Record<string, unknown>;
  result: FileRef;
  now: number;
  expiresInMs: number;
}

export interface OrdersPipelineResult {
  flow: 'orders-etl';
  startDate: string;
  target: string;
  /** The Parquet file, relative to the data directory. */
  output: FileRef;
  rejects: FileRef;
  rowsIn: number;
  kept: number;
  dropped: number;
  rejected: number;
  cache: { extract_data: CacheStatus };
  tasks: TaskRecord[];
}
