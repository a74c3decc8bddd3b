/**
 * The public contract between clients, workflows and activities: names that users type in
 * the Temporal CLI, and the one input and one output type of every workflow and activity.
 * Pure types and constants: imported by the workflow bundle, so no I/O here.
 */

import type { TaskRecord } from './sdk/types';

export * from './constants';
export * from './cache-contracts';
export * from './scheduling-contracts';

/** Airflow's dag_run.conf: free-form JSON a run is triggered with, bounded in size. */
export type DagRunConf = Record<string, unknown>;
export const MAX_CONF_BYTES = 64 * 1024;

/** What every DAG run workflow takes. */
export interface DagRunInput {
  /** Logical date, YYYY-MM-DD (Airflow's `ds`): what names the run of a DAG that runs at most daily. */
  ds?: string;
  /** Logical timestamp, `2024-01-15T13:00:00+00:00` (Airflow's `ts`): what names the run of a sub-daily DAG. */
  ts?: string;
  conf?: DagRunConf;
  /**
   * A one-off run on a worker of its own (`baton dags test`): as Airflow's `dags test`, it takes
   * no max_active_runs slot and no pool slot (their keepers live beside the project's worker).
   */
  test?: boolean;
  /**
   * The run continues an earlier execution of itself (`baton runs clear`, `mark` on a finished
   * run, `rerun`): what that execution finished is kept, except the tasks named here.
   */
  clear?: ClearRequest;
}

/** What a notifier is told of: a run or task failed, a try is retried, an empty day, a deadline passed, an approval waits, a success. */
export const NOTIFIER_EVENTS = ['failure', 'retry', 'empty', 'deadline', 'approval', 'success'] as const;
export type NotifierEvent = (typeof NOTIFIER_EVENTS)[number];

/** A task state a person may set by hand (`baton runs mark`): Airflow's mark success, mark failed, skip. */
export const MARKABLE_STATES = ['success', 'failed', 'skipped'] as const;
export type MarkableState = (typeof MARKABLE_STATES)[number];

/** The longest `by` and `reason` an operation records. */
export const MAX_REASON_CHARS = 1000;

/** Who asked for an operation on a run, and why: recorded in the run's history. */
export interface Operator {
  /** The person (their login on the machine that asked, or the console's user). */
  by: string;
  reason?: string;
}

/** What a cleared run does again: its input, in the new execution's history. */
export interface ClearRequest extends Operator {
  action: 'clear' | 'mark' | 'rerun';
  /** The execution cleared (same workflow id): what it finished is read from it. */
  runId: string;
  /** The tasks that run again; the others keep their recorded state and output (those that did not finish run). */
  tasks: string[];
  /** A mapped task's instances that run again, by index, or `failed`; a cleared mapped task not named here runs every instance. */
  instances?: Record<string, number[] | 'failed'>;
  /** Tasks set by hand (mark on a finished run): their state, no output. */
  marks?: Record<string, MarkableState>;
}

/** A mark sent to a running run (the `markTask` update's argument, kept in its history). */
export interface MarkRequest extends Operator {
  taskId: string;
  state: MarkableState;
}

/** An answer to an approval task (the `answerApproval` update's argument, kept in its history). */
export interface ApprovalAnswer extends Operator {
  taskId: string;
  decision: 'approve' | 'reject';
  /** A branch choice: the options chosen. */
  choose?: string[];
  /** A typed value, checked against the task's schema. */
  value?: unknown;
}

/** What an execution of a DAG run finished, for a clear of it to keep: its conf, task table and outputs (XCom). */
export interface RecordedRun {
  conf: DagRunConf;
  tasks: TaskRecord[];
  outputs: Record<string, unknown>;
}

export type { TaskRecord, TaskState } from './sdk/types';

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

export interface DbtModelResult {
  model: string;
  status: string;
  executionTimeSeconds: number;
  message?: string;
}

export interface AlertInput {
  dagId: string;
  ds: string;
  subject: string;
  body: string;
  to: string[];
}

/** A webhook notifier's call: the connection, and what happened where. */
export interface NotifierInput {
  conn: string;
  event: NotifierEvent;
  dagId: string;
  ds: string;
  /** A sub-daily run's ts. */
  ts?: string;
  taskId?: string;
  state: string;
  message: string;
  error?: string;
}

export interface NotifierResult {
  status: number;
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
