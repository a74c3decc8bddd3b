/**
 * The definition the scheduling machinery reads (identity, schedule, default_args), and the two
 * reference pipelines' from their DAG files (workflows/dags/orders_daily_etl/, orders-etl/), with
 * what their hand-written workflows still read (max_rejected_ratio, baton run's options).
 * Pure data: imported by the workflow bundle.
 */
import ordersEtlFile from '../workflows/dags/orders-etl/dag';
import ordersDailyEtlFile from '../workflows/dags/orders_daily_etl/dag';
import type { ColumnContract } from './column-contract';
import { dagDefinitionOf } from './sdk/compile';
import type { TaskPool } from './pools';

export interface DefaultArgs {
  owner: string;
  dependsOnPast: boolean;
  email: string[];
  emailOnFailure: boolean;
  emailOnRetry: boolean;
  /** Retries after the first try, as in Airflow (`retries=2` is 3 attempts). */
  retries: number;
  /** Fixed delay between tries; Temporal duration string. */
  retryDelay: string;
}

export interface DagDefinition {
  dagId: string;
  workflowType: string;
  description: string;
  /** Cron expression, evaluated in `timezone`. */
  schedule: string;
  timezone: string;
  /** `interval`: ds is the start of the data interval (Airflow 2); `trigger`: ds is the fire date. */
  timetable: 'interval' | 'trigger';
  startDate: string;
  endDate?: string;
  catchup: boolean;
  /**
   * The schedule is created paused (Airflow's is_paused_upon_creation): it starts no run until
   * `baton unpause`, and catchup's missed intervals wait for that too. Only at creation: a
   * later sync keeps whatever state the schedule has.
   */
  pausedOnCreation?: boolean;
  /** The task queue its runs go to: its project's (baton.config.json's taskQueue), `etl` by default. */
  taskQueue?: string;
  /** Runs of this DAG executing at once, over scheduled, manual and backfill runs; null: no limit. */
  maxActiveRuns: number | null;
  tags: string[];
  defaultArgs: DefaultArgs;
  /**
   * The share of a day's records that may be rejected before the day is refused (not published,
   * the run failed without retries); 0.05 by default.
   */
  maxRejectedRatio?: number;
  /** Tasks that take slots of a pool while they run (Airflow's pool, pool_slots, priority_weight), by task id. */
  taskPools?: Record<string, TaskPool>;
  /** Extra input every run of this DAG gets besides ds and conf (DAGs such as noopDag). */
  runArgs?: Record<string, unknown>;
  /** The options of `baton run` this DAG's workflow takes, besides its date and conf (the flow's cache controls). */
  runOptions?: readonly ('refreshCache' | 'cachePolicy')[];
}

/** The workflow id of a DAG's run for a logical date: one run per DAG and ds. */
export const dagRunWorkflowId = (dagId: string, ds: string) => `${dagId}-${ds}`;

/** The default max_rejected_ratio: a day with more than 5% of its records rejected is refused. */
export const DEFAULT_MAX_REJECTED_RATIO = 0.05;

/**
 * What `raw/orders_<ds>.csv` must hold: the five columns in this order, ids as text (UUIDs,
 * `#1001`, `ORD-2024-000123`), amounts as decimal(12,2) in any spelling numeric reads without
 * losing a digit, the order date equal to the run's date, one row per order_id (the first wins).
 */
export const ORDERS_CONTRACT: ColumnContract = {
  header: 'exact',
  columns: [
    { name: 'order_id', type: 'text', maxLength: 64 },
    { name: 'customer_id', type: 'text', maxLength: 64 },
    { name: 'order_date', type: 'date', rules: ['= ds'] },
    { name: 'amount', type: 'decimal(12,2)', rules: ['>= 0'] },
    { name: 'status', type: 'text', maxLength: 32 },
  ],
  key: { columns: ['order_id'], keep: 'first' },
};

/** orders_daily_etl's definition, from its DAG file (workflows/dags/orders_daily_etl/dag.ts). */
export const ordersDailyEtlDag: DagDefinition = { ...dagDefinitionOf(ordersDailyEtlFile), maxRejectedRatio: DEFAULT_MAX_REJECTED_RATIO };

/**
 * The Prefect flow `orders-etl`, deployed and scheduled: each morning it turns the previous
 * day's CSV into clean Parquet. Runs are `orders-etl-<startDate>`. From its DAG file
 * (workflows/dags/orders-etl/dag.ts), with the options of `baton run` its workflow takes.
 */
export const ordersEtlFlow: DagDefinition = { ...dagDefinitionOf(ordersEtlFile), runOptions: ['refreshCache', 'cachePolicy'] };

/** The reference pipelines, for look-ups by workflow type (metric labels). */
export const dags: readonly DagDefinition[] = [ordersDailyEtlDag, ordersEtlFlow];

/** The DAGs written as workflows rather than as DAG files under workflows/dags/: none now. */
export const workflowDags: readonly DagDefinition[] = [];

export function findDag(dagId: string): DagDefinition | undefined {
  return dags.find((d) => d.dagId === dagId);
}
