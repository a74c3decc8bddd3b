/**
 * Task states as Airflow users know them: a branch skips the path it does not take, a join
 * with none_failed_min_one_success runs after a branch, all_success skips after a skip, a
 * failure makes everything downstream upstream_failed, a soft skip skips what depends on it.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { evaluateTriggerRule } from '../../workflows/dag';
import { timeSkippingWorker } from '../support';
import type { TaskTableProbeInput } from './task-table-probe';

const taskQueue = 'task-table-tests';
const server = timeSkippingWorker({ taskQueue, workflowsPath: require.resolve('./task-table-probe') });

let n = 0;
const probe = (input: TaskTableProbeInput) =>
  server.env.client.workflow.execute('taskTableProbe', { taskQueue, workflowId: `task-table-${++n}`, args: [input] }) as Promise<{
    states: Record<string, string>;
    error?: string;
  }>;

test('trigger rules decide from the upstream states', () => {
  assert.equal(evaluateTriggerRule('all_success', ['success', 'success']), 'run');
  assert.equal(evaluateTriggerRule('all_success', ['success', 'running']), 'wait');
  assert.equal(evaluateTriggerRule('all_success', ['success', 'skipped']), 'skipped');
  assert.equal(evaluateTriggerRule('all_success', ['skipped', 'failed']), 'upstream_failed');
  assert.equal(evaluateTriggerRule('none_failed_min_one_success', ['success', 'skipped']), 'run');
  assert.equal(evaluateTriggerRule('none_failed_min_one_success', ['success', 'scheduled']), 'wait');
  assert.equal(evaluateTriggerRule('none_failed_min_one_success', ['skipped', 'skipped']), 'skipped');
  assert.equal(evaluateTriggerRule('none_failed_min_one_success', ['success', 'upstream_failed']), 'upstream_failed');
});

test('a branch skips the path not taken; a none_failed_min_one_success join still runs', async () => {
  assert.deepEqual(await probe({ branch: 'left' }), { states: { choose: 'success', left: 'success', right: 'skipped', join: 'success', after: 'success' } });
});

test('an all_success join after a branch is skipped, and so is everything after it', async () => {
  assert.deepEqual(await probe({ branch: 'right', joinRule: 'all_success' }), {
    states: { choose: 'success', left: 'skipped', right: 'success', join: 'skipped', after: 'skipped' },
  });
});

test('when every upstream of a join is skipped, the join and what follows are skipped', async () => {
  assert.deepEqual(await probe({}), { states: { choose: 'success', left: 'skipped', right: 'skipped', join: 'skipped', after: 'skipped' } });
});

test('a failure makes everything downstream upstream_failed, whatever the trigger rule', async () => {
  assert.deepEqual(await probe({ branch: 'left', fail: 'left' }), {
    states: { choose: 'success', left: 'failed', right: 'upstream_failed', join: 'upstream_failed', after: 'upstream_failed' },
    error: 'task left failed: left broke',
  });
});

test('a soft skip (soft_fail sensor) skips the task and everything that depends on it', async () => {
  assert.deepEqual(await probe({ branch: 'left', softSkip: 'choose' }), {
    states: { choose: 'skipped', left: 'skipped', right: 'skipped', join: 'skipped', after: 'skipped' },
  });
});

test('running a task before its upstream is done is refused, naming the upstream states', async () => {
  const result = await probe({ branch: 'left', runEarly: 'join' });
  assert.equal(result.error, 'task join cannot run: it is scheduled, upstream left=scheduled, right=scheduled');
});
