/**
 * Dynamic task mapping (Airflow's `expand`): a task runs once per item of a list an upstream
 * task returned. Its instances run in child workflows of MAP_BATCH_SIZE items each (no history
 * or pending count near Temporal's limits, whatever the list's length), at most `maxActive` at
 * once over all batches. What the engine, the batch workflow, the bookkeeping activity and the
 * CLI share. Pure: bundled into the workflow sandbox.
 */

/** Instances per batch workflow: about 3,500 history events each, far under Temporal's 51,200. */
export const MAP_BATCH_SIZE = 500;
/** The longest list a task is mapped over (Airflow's max_map_length is 1024). */
export const MAX_MAP_LENGTH = 100_000;
/** Instances of one mapped task running at once, when it does not say (Airflow's max_active_tis_per_dagrun is unbounded; 16 keeps a worker fair). */
export const DEFAULT_MAX_ACTIVE = 16;
/** The most a mapped task may run at once. */
export const MAX_MAX_ACTIVE = 1_000;
/** One instance's args: a reference and a few values, as XCom. */
export const MAP_ARGS_MAX_BYTES = 2 * 1024;
/** One instance's output: small, so a batch's 500 outcomes stay far under Temporal's 2 MB payload. */
export const MAP_OUTPUT_MAX_BYTES = 2 * 1024;
/** All instances' args and labels together: what the run's history holds of them, far under its 50 MB. */
export const MAP_INPUT_MAX_BYTES = 16 * 1024 * 1024;
/** What downstream tasks receive: the instances' outputs as one list, as large as any list in XCom. */
export const MAPPED_OUTPUT_MAX_BYTES = 1024 * 1024;

/** An instance as the batch workflow runs it. */
export interface MappedItem {
  index: number;
  label?: string;
  args: unknown;
  /** A hash of its args: a rerun reuses an instance's success only for the same args. */
  hash: string;
}

/** How one instance ended. */
export interface MappedInstance {
  index: number;
  label?: string;
  state: 'success' | 'failed';
  output?: unknown;
  error?: string;
  hash: string;
  startedAt?: string;
  durationMs?: number;
  /** Its success was the previous run's of this batch (the same args): not run again. */
  reused?: true;
}

export interface MappedBatchInput {
  dagId: string;
  /** The mapped task's id; each instance is `<taskId>[<index>]`. */
  taskId: string;
  /** The activity type each instance runs (`<dag id>.<function>`). */
  activityType: string;
  /** What the activity is given besides its args (the run's dag, ds and ts). */
  base: Record<string, unknown>;
  items: MappedItem[];
  /** Instances of this batch running at once. */
  maxActive: number;
  /** Each instance's tries: Temporal's retry policy, and the most one try may take. */
  attempts: number;
  retryDelayMs: number;
  backoff: boolean;
  maxRetryDelayMs: number;
  timeout: string;
  /** How long an instance may go without a heartbeat (its worker died) before it is tried again elsewhere. */
  heartbeatTimeout: string;
  /** The batch's last run, when the DAG run runs again: its successes for the same args stand. */
  previousRunId?: string;
  /** Instances (by index) that run again even though they succeeded in the last run (a clear naming them). */
  rerun?: number[];
}

export interface MappedBatchResult {
  instances: MappedInstance[];
}

/** The workflow id of a mapped task's batch: stable for the run's id, so a rerun finds the last run's outcome. */
export const mappedBatchWorkflowId = (runWorkflowId: string, taskId: string, batch: number) => `${runWorkflowId}~${taskId}~${batch}`;

/** The instance's task id in logs and the task table: `load_file[3]`. */
export const instanceId = (taskId: string, index: number) => `${taskId}[${index}]`;

/** FNV-1a (32 bits) of a value's JSON, as 8 hex digits: deterministic, for comparing an instance's args across runs. */
export function argsHash(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * How many batches run at once and each one's share of `maxActive`: enough batches that the next
 * one starts while others run (a batch's start and end leave no gap in the fan-out), never more
 * than four, and never more instances at once than `maxActive` in all.
 */
export function batchShares(maxActive: number, batches: number): number[] {
  const parallel = Math.max(1, Math.min(batches, 4, Math.floor(maxActive / 8) || 1, maxActive));
  return Array.from({ length: parallel }, (_, i) => Math.floor(maxActive / parallel) + (i < maxActive % parallel ? 1 : 0));
}
