/**
 * A DAG as data: its definition and its tasks, settings with references as markers, and pure
 * functions of the run's context. What `dag(...)` (dag.ts) builds from a DAG file, what
 * the engine (workflows/engine.ts) runs and what `baton dags validate` checks (compile.ts).
 * Each operator's task settings are in its folder (src/operators/<name>/definition.ts).
 * Pure: bundled into the workflow sandbox.
 */
import type { z } from 'zod';
import type { TaskDefinition } from '../operators/definitions';
import type { AssetSchedule } from './assets';
import type { RefMarker } from './refs';
import type { TemplateContext } from './templates';

/** When a task runs, given its upstream tasks' states: Airflow's trigger rules. */
export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'all_done_setup_success',
  'one_success',
  'one_failed',
  'none_failed',
  'none_failed_min_one_success',
  'none_skipped',
  'always',
  'one_done',
  'all_skipped',
  'all_done_min_one_success',
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
  /** Who is told of this task's failure, retries, success, deadline or approval waiting. */
  notifiers?: readonly Notifier[];
  /** When this task must be done: a run still before it or in it then alerts once. */
  deadline?: Deadline;
}

/** What a notifier is told of (NOTIFIER_EVENTS): failure, retry, empty, deadline, approval, success. */
export type NotifierEvent = 'failure' | 'retry' | 'empty' | 'deadline' | 'approval' | 'success';

/**
 * Who is told of a run's events, and of which: a webhook (a named connection, BATON_CONN_<NAME>,
 * posted a JSON payload with a Slack-compatible `text`), or mail.
 */
export type Notifier = { webhook: string; on: readonly NotifierEvent[] } | { email: readonly string[]; on: readonly NotifierEvent[] };

/**
 * When a run (or a task) must be done: `within` after its logical date, its data interval's end
 * or its start. A run still going then alerts once, naming where it is and how late it is.
 */
export interface Deadline {
  after: 'logical_date' | 'data_interval_end' | 'run_start';
  within: string;
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
   * With setups among its upstream, it runs when one of them succeeded (all_done_setup_success).
   */
  teardown?: boolean;
  /**
   * A setup makes what the tasks after it use (a cluster, a scratch table), as Airflow's setup
   * tasks: the teardown downstream of it pairs with it, and a setup that failed or was skipped
   * fails or skips every task in its scope (after it, before its teardown), whatever their rules.
   */
  setup?: boolean;
  /** What the task does (templated): the line the Web UI shows for its activity, and `baton dags show`'s. */
  doc?: string;
  /**
   * The assets the task updates (Airflow's outlets): when it succeeds, the run announces an update
   * of each for its partition (its ds, or its ts for a sub-daily DAG), which may start the DAGs
   * scheduled on them.
   */
  outlets?: readonly string[];
  /**
   * Skips the task when it returns a reason (Airflow's @task.skip_if): a pure function of the
   * run's context, asked when the task's trigger rule is met. Downstream tasks then follow their rules.
   */
  skipIf?: (run: RunContext) => string | false | undefined;
  /** What the task table and the Web UI show of its output; its scalar fields by default. */
  summary?: (output: never) => Record<string, string | number>;
}

/** A task of a DAG file: one operator's settings (src/operators/<name>/definition.ts). */
export type { OperatorName, TaskDefinition } from '../operators/definitions';

/** A DAG file's default export. */
export interface DagFileDefinition<P extends z.ZodObject = z.ZodObject> {
  dagId: string;
  description?: string;
  /**
   * A cron (or a preset such as @daily), in `timezone`; or assets whose updates start a run for
   * their partition (`{ assets: 'orders & customers' }`), with `or: '<cron>'` a cron besides.
   */
  schedule: string | AssetSchedule;
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
  /** Who is told of the run's events: its failure, retries, an empty day, its deadline, approvals waiting, its success. */
  notifiers?: readonly Notifier[];
  /** When each run must be done: one still going then alerts once. */
  deadline?: Deadline;
  /** The workflow type its runs have; the DAG id by default. */
  workflowType?: string;
  tasks: Record<string, TaskDefinition>;
  /**
   * The run's result from its tasks' outputs; `{ dagId, ds, state, tasks }` always. The state is
   * `success_with_skips` when a task was skipped, unless the result says which of the two it is
   * (a branch not taken may be the run's ordinary path).
   */
  result?: (run: RunContext) => Record<string, unknown> & { state?: 'success' | 'success_with_skips'; empty?: boolean };
}

/** A task's state in a run's task table. */
export type TaskState = 'scheduled' | 'queued' | 'running' | 'success' | 'failed' | 'skipped' | 'upstream_failed';

export interface TaskRecord {
  taskId: string;
  state: TaskState;
  /** Workflow time, ISO 8601. */
  startedAt?: string;
  durationMs?: number;
  /** How many times it was tried (more than 1: it was retried). */
  tries?: number;
  /** The task's key output: row counts, model states. XCom's role. */
  output?: Record<string, string | number>;
  error?: string;
  /** A mapped task: how many instances ended in each state, and the batch workflows that hold each instance's record. */
  mapped?: { total: number; success: number; failed: number; reused: number; batches: string[] };
}
