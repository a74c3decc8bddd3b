/**
 * Pools, as in Airflow: a named number of slots that tasks of any DAG take while they run,
 * `pool_slots` each, `priority_weight` deciding who goes first. A DAG's max_active_runs is a
 * pool of its own (`max_active_runs:<dag_id>`) that whole runs take. Pure data and helpers:
 * imported by the workflow bundle.
 */

export interface PoolDefinition {
  name: string;
  slots: number;
  description: string;
}

/** Pool names: they travel in search attributes and visibility queries, so a tight alphabet. */
export const POOL_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

export const pools: readonly PoolDefinition[] = [
  { name: 'default_pool', slots: 128, description: 'Tasks that name no pool of their own take this one, as in Airflow' },
  { name: 'warehouse', slots: 4, description: 'Heavy statements on the warehouse Postgres: loads, dbt runs, large COPYs' },
];

export function findPool(name: string): PoolDefinition | undefined {
  return pools.find((p) => p.name === name);
}

/** A task's place in a pool (Airflow's pool, pool_slots and priority_weight). */
export interface TaskPool {
  pool: string;
  /** Slots the task takes while it runs; 1 by default. */
  poolSlots?: number;
  /** Higher goes first among waiting tasks; 1 by default. */
  priorityWeight?: number;
}

/** A held slot as a run's search attribute shows it: `<pool>|<token>|<slots>`. */
export const slotEntry = (pool: string, token: string, slots: number) => `${pool}|${token}|${slots}`;

export function parseSlotEntry(entry: string): { pool: string; token: string; slots: number } | undefined {
  const [pool, token, slots] = entry.split('|');
  const n = Number(slots);
  return pool && token && Number.isInteger(n) && n > 0 ? { pool, token, slots: n } : undefined;
}

/**
 * Temporal's task priority for a priority weight, so the task's activities are also
 * dispatched in that order once granted: 1 (first) to 5 (last); weight 1, the default, is 3.
 */
export function temporalPriorityKey(weight: number): number {
  if (weight >= 100) return 1;
  if (weight >= 10) return 2;
  if (weight >= 1) return 3;
  return weight > 0 ? 4 : 5;
}
