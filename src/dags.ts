/**
 * What the scheduling machinery reads of a DAG (identity, schedule, default_args), made from its
 * DAG file by the catalog (src/dag-catalog.ts). Pure data: imported by the workflow bundle.
 */
import type { TaskPool } from './pools';
import { formatAssetExpression, type AssetExpression } from './sdk/assets';

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
  /** Cron expression, evaluated in `timezone`; null for a DAG scheduled on assets alone (it has no Temporal Schedule). */
  schedule: string | null;
  /**
   * Data-aware scheduling: the condition over assets whose updates start the run of their
   * partition (`<dag_id>-<partition>`), besides the cron when there is one (assets or time).
   */
  assets?: AssetExpression;
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
  /** Tasks that take slots of a pool while they run (Airflow's pool, pool_slots, priority_weight), by task id. */
  taskPools?: Record<string, TaskPool>;
  /** Extra input every run of this DAG gets besides ds and conf (DAGs such as noopDag). */
  runArgs?: Record<string, unknown>;
}

/** A DAG with a cron: what a Temporal Schedule, a scheduled run and the timetable's intervals need. */
export type CronDagDefinition = DagDefinition & { schedule: string };

/** Whether the DAG has a cron (a DAG scheduled on assets alone has none). */
export const hasCron = (dag: DagDefinition): dag is CronDagDefinition => dag.schedule !== null;

/** How the DAG is scheduled, as the CLI shows it: `0 6 * * *`, `assets orders & customers`, or both (`... or 0 6 * * *`). */
export function scheduleText(dag: Pick<DagDefinition, 'schedule' | 'assets'>): string {
  if (!dag.assets) return dag.schedule ?? 'none';
  return `assets ${formatAssetExpression(dag.assets)}${dag.schedule !== null ? ` or ${dag.schedule}` : ''}`;
}

/**
 * The workflow id of a DAG's run: one run per DAG and key, its ds (`<dag_id>-2024-01-15`), or
 * its ts for a DAG that runs more than once a day (`<dag_id>-2024-01-15T13:00:00+00:00`).
 */
export const dagRunWorkflowId = (dagId: string, key: string) => `${dagId}-${key}`;

/** A run's input naming its key: `{ ds }`, or `{ ts }` for a sub-daily DAG's run. */
export const runInputFor = (key: string): { ds: string } | { ts: string } => (key.includes('T') ? { ts: key } : { ds: key });
