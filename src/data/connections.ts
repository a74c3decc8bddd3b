/**
 * Airflow's connections: a conn_id names a database. `warehouse` is DATABASE_URL; any other id
 * is the URL in `BATON_CONN_<ID>`. Pools are made on first use and shared by the worker's
 * activities.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Pool, type PoolClient } from 'pg';
import { cancellationSignal } from './heartbeat';

export const WAREHOUSE = 'warehouse';

export type PoolFor = (connId: string) => Pool;

export function createConnections(warehouse: Pool, connections: Record<string, string>): PoolFor {
  const pools = new Map<string, Pool>();
  return (connId) => {
    if (connId === WAREHOUSE) return warehouse;
    const url = connections[connId];
    if (!url)
      throw ApplicationFailure.nonRetryable(
        `unknown connection ${JSON.stringify(connId)}: set BATON_CONN_${connId.toUpperCase()} to its URL`,
        'UnknownConnection',
      );
    let pool = pools.get(connId);
    if (!pool) {
      pools.set(connId, (pool = new Pool({ connectionString: url, max: 4, application_name: `baton-worker:${connId}` })));
      pool.on('error', () => undefined); // an idle connection that dies is replaced on next use
    }
    return pool;
  };
}

/**
 * Postgres's errors that retrying cannot fix: a statement's (syntax, missing table or column, bad
 * value, classes 42 and 22) or the connection's settings (a refused password or role, 28; a
 * database that does not exist, 3D). Fix the SQL or the connection's URL and run again.
 */
export function isStatementError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return typeof code === 'string' && /^(42|22|28|3D)/.test(code);
}

/**
 * Runs `work` on one pooled connection; cancels the running statement if the activity is
 * cancelled. A connection the server drops (a restart, pg_terminate_backend) fails `work` and is
 * discarded: an 'error' event on a checked-out client with no listener would end the worker.
 */
export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const signal = cancellationSignal();
  const backendPid = (client as unknown as { processID?: number }).processID;
  const onAbort = () => {
    if (backendPid) void pool.query('SELECT pg_cancel_backend($1)', [backendPid]).catch(() => undefined);
  };
  signal.addEventListener('abort', onAbort);
  let broken: Error | undefined;
  const onError = (err: Error) => (broken ??= err);
  client.on('error', onError);
  try {
    return await work(client);
  } catch (err) {
    broken ??= err as Error;
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    client.off('error', onError);
    client.release(broken);
  }
}

export async function inTransaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
