/**
 * Airflow's connections: a conn_id names a database. `warehouse` is DATABASE_URL; any other id
 * is the URL in `BATON_CONN_<ID>`. Pools are made on first use and shared by the worker's
 * activities.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Pool } from 'pg';

export const WAREHOUSE = 'warehouse';

export type PoolFor = (connId: string) => Pool;

export function createConnections(warehouse: Pool, connections: Record<string, string>): PoolFor {
  const pools = new Map<string, Pool>();
  return (connId) => {
    if (connId === WAREHOUSE) return warehouse;
    const url = connections[connId];
    if (!url) throw ApplicationFailure.nonRetryable(`unknown connection ${JSON.stringify(connId)}: set BATON_CONN_${connId.toUpperCase()} to its URL`, 'UnknownConnection');
    let pool = pools.get(connId);
    if (!pool) {
      pools.set(connId, (pool = new Pool({ connectionString: url, max: 4, application_name: `baton-worker:${connId}` })));
      pool.on('error', () => undefined); // an idle connection that dies is replaced on next use
    }
    return pool;
  };
}

/** Postgres's SQL errors of a statement (syntax, missing table or column, bad value): retrying cannot help. */
export function isStatementError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return typeof code === 'string' && /^(42|22)/.test(code);
}
