/**
 * What is checked before a run starts, wherever it is started from (the CLI, the console): its
 * params against the DAG's schema, and a live worker that serves the DAG. Each says what is wrong
 * in the same words.
 */
import { Pool } from 'pg';
import type { Config } from './config';
import { TASK_QUEUE, type DagRunConf } from './contracts';
import { loadCatalog } from './dag-catalog';
import { servedWorkflowTypes } from './dag-servers';
import type { DagDefinition } from './dags';
import { paramsOf } from './sdk/compile';

/** What is wrong with a conf's params for the DAG (`params.<name>: <problem> (conf gave <value>)` each), or none. */
export function paramProblems(dag: DagDefinition, conf: DagRunConf = {}): string[] {
  const file = loadCatalog().files.find((f) => f.dag.dagId === dag.dagId)?.dag.file;
  const resolved = file ? paramsOf(file, conf) : { params: {} };
  return 'problems' in resolved ? resolved.problems : [];
}

/**
 * Why a run of the DAG would not be served, or undefined when a live worker on its task queue
 * serves it. Started anyway, the run would fail with "no DAG file has workflow type ..." or wait
 * for a worker.
 */
export async function notServed(config: Pick<Config, 'databaseUrl' | 'temporal'>, dag: DagDefinition): Promise<string | undefined> {
  const taskQueue = dag.taskQueue ?? TASK_QUEUE;
  const pool = new Pool({ connectionString: config.databaseUrl, max: 1, connectionTimeoutMillis: 10_000 });
  let served: Set<string>;
  try {
    served = await servedWorkflowTypes(pool, config.temporal.namespace, taskQueue);
  } catch (err) {
    // No worker has ever started on this database: the table is not there yet.
    if ((err as { code?: string }).code === '42501')
      throw new Error(
        `the database role may not read baton.dag_servers, where workers say what they serve (${(err as Error).message}): apply activities/sql/worker-role.sql`,
      );
    if ((err as { code?: string }).code !== '42P01') throw err;
    served = new Set();
  } finally {
    await pool.end();
  }
  if (served.has(dag.workflowType)) return undefined;
  return served.size
    ? `no worker on task queue ${taskQueue} serves ${dag.dagId} (workflow type ${dag.workflowType}); they serve ${[...served].sort().join(', ')}. A worker that follows the DAGs folder (\`baton start\`) serves a new file once it validates: \`baton dags validate\` names its problems; a deployed worker serves it once restarted`
    : `no worker is running on task queue ${taskQueue} (namespace ${config.temporal.namespace}): start one with \`baton start\` (or \`npm run worker\`), then trigger ${dag.dagId} again`;
}
