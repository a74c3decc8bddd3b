/** When a deadline falls for a run and what its alert says (src/deadlines.ts), in process. */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { deadlineAlert, deadlineAt, lateBy } from '../../src/deadlines';
import type { TaskRecord } from '../../src/contracts';

const interval = { dataIntervalStart: '2024-01-15T00:00:00+01:00', dataIntervalEnd: '2024-01-16T00:00:00+01:00' };
const tasks: TaskRecord[] = [
  { taskId: 'extract', state: 'success' },
  { taskId: 'load', state: 'running' },
  { taskId: 'report', state: 'scheduled' },
];

test('a deadline falls after the logical date, the interval end or the run start, in absolute time', () => {
  assert.equal(new Date(deadlineAt({ after: 'logical_date', within: '30h' }, interval, 0)).toISOString(), '2024-01-16T05:00:00.000Z');
  assert.equal(new Date(deadlineAt({ after: 'data_interval_end', within: '2h' }, interval, 0)).toISOString(), '2024-01-16T01:00:00.000Z');
  assert.equal(deadlineAt({ after: 'run_start', within: '90m' }, interval, 1_000), 1_000 + 5_400_000);
  assert.deepEqual([0, 40_000, 720_000, 3_900_000, 90_061_000].map(lateBy), ['0s', '40s', '12m', '1h 5m', '1d 1h 1m']);
});

test("the alert names where the run is and how late; a task's says its state; none once the task is done", () => {
  const at = Date.parse('2024-01-16T01:00:00Z');
  const run = { after: 'data_interval_end' as const, within: '2h' };
  assert.equal(
    deadlineAlert(run, at, at + 720_000, tasks),
    'the run is not done by its deadline (data_interval_end + 2h = 2024-01-16T01:00:00.000Z): it is at load, 12m late',
  );
  assert.equal(
    deadlineAlert(run, at, at, [tasks[0], { taskId: 'load', state: 'success' }, tasks[2]]),
    'the run is not done by its deadline (data_interval_end + 2h = 2024-01-16T01:00:00.000Z): it is between tasks, 0s late',
  );
  assert.equal(
    deadlineAlert(run, at, at + 5_000, tasks, 'report'),
    'report is not done by its deadline (data_interval_end + 2h = 2024-01-16T01:00:00.000Z): it is scheduled, 5s late',
  );
  assert.equal(deadlineAlert(run, at, at, tasks, 'extract'), undefined);
});
