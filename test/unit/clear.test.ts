/** What a clear runs again and keeps (src/clear.ts): a task, a group, downstream, upstream, only what failed, instances. */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { keptRecords, namedTasks, planClear } from '../../src/clear';
import type { TaskRecord } from '../../src/contracts';

// extract >> load.eu, load.us >> report; audit after extract.
const GRAPH = [
  { taskId: 'extract', upstream: [] },
  { taskId: 'load.eu', upstream: ['extract'] },
  { taskId: 'load.us', upstream: ['extract'] },
  { taskId: 'audit', upstream: ['extract'] },
  { taskId: 'report', upstream: ['load.eu', 'load.us'] },
];
const r = (taskId: string, state: TaskRecord['state'], extra: Partial<TaskRecord> = {}): TaskRecord => ({ taskId, state, ...extra });
const FAILED_RUN = [
  r('extract', 'success'),
  r('load.eu', 'success'),
  r('load.us', 'failed', { error: 'x' }),
  r('audit', 'success'),
  r('report', 'upstream_failed'),
];
const GOOD_RUN = FAILED_RUN.map((t) => ({ ...t, state: 'success' as const }));

test('a group, with what follows it: its tasks and report run again; extract and audit are kept', () => {
  const plan = planClear(GRAPH, FAILED_RUN, { task: 'load', downstream: true });
  assert.deepEqual(plan.selected, ['load.eu', 'load.us', 'report']);
  assert.deepEqual(plan.rerun, ['load.eu', 'load.us', 'report']);
  assert.deepEqual(
    plan.kept.map((t) => t.taskId),
    ['extract', 'audit'],
  );
});

test('a task alone keeps what follows it if it finished; what did not run (upstream_failed) runs again', () => {
  assert.deepEqual(planClear(GRAPH, GOOD_RUN, { task: 'load.us' }).rerun, ['load.us']);
  assert.deepEqual(planClear(GRAPH, FAILED_RUN, { task: 'load.us' }).rerun, ['load.us', 'report']);
  assert.deepEqual(planClear(GRAPH, GOOD_RUN, { task: 'report', upstream: true }).rerun, ['extract', 'load.eu', 'load.us', 'report']);
});

test('--failed-only clears what failed or did not run for a failure; a mapped task with failed instances, only those', () => {
  assert.deepEqual(planClear(GRAPH, FAILED_RUN, { failedOnly: true }).selected, ['load.us', 'report']);
  assert.deepEqual(planClear(GRAPH, GOOD_RUN, { failedOnly: true }).selected, []);
  const mapped = [
    ...GOOD_RUN.filter((t) => t.taskId !== 'audit'),
    r('audit', 'failed', { mapped: { total: 5, success: 3, failed: 2, reused: 0, batches: ['b'] } }),
  ];
  const plan = planClear(GRAPH, mapped, { failedOnly: true });
  assert.deepEqual([plan.selected, plan.instances], [['audit'], { audit: 'failed' }]);
  assert.deepEqual(planClear(GRAPH, mapped, { task: 'audit', mapIndexes: [4, 1, 4] }).instances, { audit: [1, 4] });
  assert.throws(() => planClear(GRAPH, mapped, { task: 'audit', mapIndexes: [5] }), /--map-index 5: audit has instances 0 to 4/);
  assert.throws(() => planClear(GRAPH, mapped, { task: 'extract', mapIndexes: [0] }), /extract is not a mapped task of this run/);
});

test('a task the DAG no longer has is dropped; one it gained runs; an unknown name is refused with the tasks there are', () => {
  const older = [...GOOD_RUN.filter((t) => t.taskId !== 'audit'), r('legacy', 'success')];
  const plan = planClear(GRAPH, older, { task: 'report' });
  assert.deepEqual(plan.rerun, ['audit', 'report']);
  assert.ok(!plan.kept.some((t) => t.taskId === 'legacy'));
  assert.throws(() => namedTasks(GRAPH, 'lod'), /no task or group "lod" in this DAG; its tasks are extract, load\.eu, load\.us, audit, report/);
  assert.deepEqual(
    keptRecords(GRAPH, GOOD_RUN, { tasks: [], marks: { audit: 'failed' } }).map((t) => t.taskId),
    ['extract', 'load.eu', 'load.us', 'report'],
  );
});
