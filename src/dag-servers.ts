/**
 * Which DAGs the running workers serve: each worker announces its namespace, task queue and the
 * workflow types of its DAGs in baton.dag_servers, refreshes the row while it runs, and takes it
 * back when it stops. `baton trigger` asks before it creates a run, so a DAG no worker serves is
 * refused at once, not left as a run that fails ("no DAG file has workflow type ...") or waits.
 */
import type { Pool } from 'pg';

/** A worker unseen for longer than this is taken for gone (killed without a chance to say so). */
export const DAG_SERVER_TTL_SECONDS = 30;

export interface DagServer {
  worker: string;
  namespace: string;
  taskQueue: string;
  workflowTypes: readonly string[];
}

export async function announceDagServer(pool: Pool, server: DagServer): Promise<void> {
  await pool.query(
    `INSERT INTO baton.dag_servers (worker, namespace, task_queue, workflow_types, seen_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (worker) DO UPDATE SET namespace = excluded.namespace, task_queue = excluded.task_queue,
       workflow_types = excluded.workflow_types, seen_at = excluded.seen_at`,
    [server.worker, server.namespace, server.taskQueue, [...server.workflowTypes]],
  );
}

export async function withdrawDagServer(pool: Pool, worker: string): Promise<void> {
  await pool.query('DELETE FROM baton.dag_servers WHERE worker = $1', [worker]);
}

/** The workflow types the live workers on a task queue serve. */
export async function servedWorkflowTypes(pool: Pool, namespace: string, taskQueue: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ workflow_types: string[] }>(
    `SELECT workflow_types FROM baton.dag_servers
      WHERE namespace = $1 AND task_queue = $2 AND seen_at > now() - make_interval(secs => $3)`,
    [namespace, taskQueue, DAG_SERVER_TTL_SECONDS],
  );
  return new Set(rows.flatMap((r) => r.workflow_types));
}
