/**
 * What running workers serve (src/dag-servers.ts): a worker's announcement, its refresh, the
 * queue and namespace it is for, and its withdrawal; a worker unseen for 30 s is taken for gone.
 */
import assert from '../support/assert';
import { afterAll, test } from '@jest/globals';
import { migrateWarehouse } from '../../activities/warehouse';
import { announceDagServer, DAG_SERVER_TTL_SECONDS, servedWorkflowTypes, withdrawDagServer } from '../../src/dag-servers';
import { testPool } from '../support';

const pool = testPool();
afterAll(() => pool.end());

test('the workflow types live workers serve on a queue, and none once they withdraw or go quiet', async () => {
  await migrateWarehouse(pool);
  const queue = `dag-servers-${process.pid}`;
  await announceDagServer(pool, { worker: `a-${queue}`, namespace: 'ns', taskQueue: queue, workflowTypes: ['alpha', 'beta'] });
  await announceDagServer(pool, { worker: `b-${queue}`, namespace: 'ns', taskQueue: queue, workflowTypes: ['beta', 'gamma'] });
  await announceDagServer(pool, { worker: `c-${queue}`, namespace: 'other', taskQueue: queue, workflowTypes: ['delta'] });
  assert.deepEqual([...(await servedWorkflowTypes(pool, 'ns', queue))].sort(), ['alpha', 'beta', 'gamma']);
  // A reload announces again: the row follows what the worker serves now.
  await announceDagServer(pool, { worker: `a-${queue}`, namespace: 'ns', taskQueue: queue, workflowTypes: ['alpha'] });
  await withdrawDagServer(pool, `b-${queue}`);
  assert.deepEqual([...(await servedWorkflowTypes(pool, 'ns', queue))], ['alpha']);
  await pool.query(`UPDATE baton.dag_servers SET seen_at = now() - make_interval(secs => $1) WHERE worker = $2`, [DAG_SERVER_TTL_SECONDS + 1, `a-${queue}`]);
  assert.deepEqual([...(await servedWorkflowTypes(pool, 'ns', queue))], []);
  await pool.query('DELETE FROM baton.dag_servers WHERE task_queue = $1', [queue]);
});
