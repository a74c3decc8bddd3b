/**
 * Names users type in the Temporal CLI and that every part of Baton shares, declared once:
 * the task queue, workflow types, queries and signals, search attributes, metrics, workflow
 * ids. Pure constants: imported by the workflow bundle, so no I/O here.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TASK_QUEUE = 'etl';

export const WorkflowTypes = {
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
  /** One per DAG scheduled on assets: keeps each partition's updates and starts its run when the condition is met. */
  assetWatcher: 'assetWatcher',
  /** One per asset: its last updates (partition, time, source), for `baton assets list`. */
  assetRecord: 'assetRecord',
} as const;

export const Queries = {
  /** The run's task table, as Airflow's grid view shows it. */
  tasks: 'tasks',
  /** What a DAG run finished: its conf, task table and outputs (what `baton runs clear` keeps). */
  record: 'record',
  /** A backfill's progress. */
  progress: 'progress',
  /** An asset watcher's partitions waiting for their condition, and the runs it started. */
  assetWatcher: 'assetWatcher',
  /** An asset's last updates. */
  assetUpdates: 'assetUpdates',
} as const;

/** Updates a running DAG run takes: validated before they are accepted, then kept in its history with who sent them. */
export const Updates = {
  /** Sets a task's state by hand (`baton runs mark`). */
  markTask: 'markTask',
  /** Answers an approval task (`baton runs approve|reject`). */
  answerApproval: 'answerApproval',
} as const;

export const Signals = {
  acquireSlot: 'acquireSlot',
  releaseSlot: 'releaseSlot',
  slotGranted: 'slotGranted',
  /** An asset was updated for a partition: to its record and to the watcher of each DAG it schedules. */
  assetUpdated: 'assetUpdated',
} as const;

/** Custom search attributes on every DAG run (registered by the dev server start-up). */
export const SearchAttributeNames = {
  dag: 'BatonDag',
  ds: 'BatonDs',
  /** A sub-daily DAG's run: its logical timestamp (`2024-01-15T13:00:00+00:00`); its BatonDs is the date. */
  ts: 'BatonTs',
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
/** The watcher of a DAG scheduled on assets. */
export const assetWatcherWorkflowId = (dagId: string) => `baton-assets-${dagId}`;
/** An asset's record of its updates. */
export const assetRecordWorkflowId = (asset: string) => `baton-asset-${asset}`;

/** The typed keys of Baton's search attributes, and of Temporal's own that runs read. */
export const SearchAttributeKeys = {
  dag: defineSearchAttributeKey(SearchAttributeNames.dag, SearchAttributeType.KEYWORD),
  ds: defineSearchAttributeKey(SearchAttributeNames.ds, SearchAttributeType.KEYWORD),
  ts: defineSearchAttributeKey(SearchAttributeNames.ts, SearchAttributeType.KEYWORD),
  tags: defineSearchAttributeKey(SearchAttributeNames.tags, SearchAttributeType.KEYWORD_LIST),
  pools: defineSearchAttributeKey(SearchAttributeNames.pools, SearchAttributeType.KEYWORD_LIST),
  slots: defineSearchAttributeKey(SearchAttributeNames.slots, SearchAttributeType.KEYWORD_LIST),
  /** Set by a Temporal Schedule on each run it starts: the fire time. */
  scheduledStartTime: defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME),
} as const;

/** What a server must register for Baton: each custom attribute's name and type, as the Temporal CLI names types. */
export const SEARCH_ATTRIBUTES = {
  [SearchAttributeNames.dag]: 'Keyword',
  [SearchAttributeNames.ds]: 'Keyword',
  [SearchAttributeNames.ts]: 'Keyword',
  [SearchAttributeNames.tags]: 'KeywordList',
  [SearchAttributeNames.pools]: 'KeywordList',
  [SearchAttributeNames.slots]: 'KeywordList',
} as const;

/** The operator API's IndexedValueType numbers for SEARCH_ATTRIBUTES entries (Keyword 2, KeywordList 7). */
export function searchAttributeTypes(entries: Array<[string, 'Keyword' | 'KeywordList']> = Object.entries(SEARCH_ATTRIBUTES)): Record<string, number> {
  const indexed = { Keyword: 2, KeywordList: 7 } as const;
  return Object.fromEntries(entries.map(([name, type]) => [name, indexed[type]]));
}
