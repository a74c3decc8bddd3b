/**
 * The contract of scheduling: run statuses, max_active_runs and pool slots, what a schedule
 * hands the run it starts, backfills, and assets (updates, watchers, records). Pure types:
 * imported by the workflow bundle.
 */
import type { AssetExpression } from './sdk/assets';

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

/** A run queued for a slot: its logical date sets its place in the queue. */
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

// ---- Assets: data-aware scheduling -------------------------------------------------------------

/** Where an asset update came from: a task of a DAG run, or `baton assets emit` (an external system). */
export type AssetUpdateSource = { kind: 'task'; dagId: string; taskId: string; workflowId: string; runId: string } | { kind: 'emit'; by: string };

/** An asset updated for a partition (Airflow's asset event). */
export interface AssetUpdate {
  /** The update's identity: announced twice (a retried announcement), it counts once. */
  id: string;
  asset: string;
  /** A date YYYY-MM-DD, or a timestamp as Airflow writes ts (`2024-01-15T13:00:00+00:00`). */
  partition: string;
  /** When it was announced, ISO 8601. */
  at: string;
  source: AssetUpdateSource;
}

/**
 * A DAG scheduled on assets, as its watcher needs it: sent with every update, from the DAG file
 * as the sender loaded it, so a changed condition applies from the next update on.
 */
export interface AssetConsumer {
  dagId: string;
  workflowType: string;
  taskQueue: string;
  condition: AssetExpression;
  /** Extra input its runs take (DAGs such as noopDag). */
  runArgs?: Record<string, unknown>;
}

/** The assetUpdated signal to a consumer's watcher: the update, the consumer, and the run the partition names. */
export interface AssetUpdateForConsumer {
  update: AssetUpdate;
  consumer: AssetConsumer;
  /** The consumer's run for the partition: its key (`<dag_id>-<key>`) and ds. */
  key: string;
  ds: string;
}

/** A partition whose condition is not met yet: the latest update of each asset updated for it. */
export interface PendingPartition {
  key: string;
  ds: string;
  updates: Record<string, AssetUpdate>;
}

/** A run a watcher started (`started`), or found in flight and took as the partition's (`joined`). */
export interface AssetTriggeredRun {
  key: string;
  workflowId: string;
  outcome: 'started' | 'joined';
  /** Workflow time, ISO 8601. */
  at: string;
  /** The updates that met the condition, `<asset>@<partition>` each. */
  assets: string[];
}

export interface AssetWatcherState {
  /** The consumer as the latest update described it. */
  consumer?: AssetConsumer;
  /** Partitions waiting for their condition, oldest first. */
  pending: PendingPartition[];
  /** The latest runs it started or joined, oldest first (at most 50). */
  runs: AssetTriggeredRun[];
  /** Ids of the latest updates, so an update announced twice counts once. */
  seen: string[];
  /** Updates received, over every history. */
  received: number;
}

export interface AssetWatcherInput {
  dagId: string;
  /** Updates handled per history before continuing as new (default 500). */
  updatesPerRun?: number;
  /** Carried across continue-as-new. */
  state?: AssetWatcherState;
}

export interface AssetRecordState {
  /** Its latest updates, oldest first (at most 20). */
  updates: AssetUpdate[];
  /** Updates recorded, over every history. */
  count: number;
  /** Ids of the latest updates, so an update announced twice counts once. */
  seen: string[];
}

export interface AssetRecordInput {
  asset: string;
  /** Updates recorded per history before continuing as new (default 500). */
  updatesPerRun?: number;
  state?: AssetRecordState;
}

/** The memo an asset's record keeps: its last update, read by `baton assets list` without a worker. */
export interface AssetRecordMemo {
  lastUpdate: AssetUpdate;
  count: number;
}

/** What a task with outlets announces when it succeeds. */
export interface AnnounceAssetsInput {
  dagId: string;
  taskId: string;
  /** The run's key: its ds, or its ts for a sub-daily DAG. */
  partition: string;
  assets: string[];
}

/** To whom an update went: the asset's record, and each DAG it schedules (the run it names), or why not. */
export interface AssetAnnouncement {
  asset: string;
  partition: string;
  consumers: Array<{ dagId: string; key: string } | { dagId: string; refused: string }>;
}

export interface AnnounceAssetsResult {
  announced: AssetAnnouncement[];
}
