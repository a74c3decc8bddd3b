/**
 * A run's task table as `baton runs show` prints it (src/task-lines.ts): a group's tasks and a
 * task's instances folded into one line each, counted by state, or with --all each on its own.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import type { TaskRecord } from '../../src/contracts';
import { foldKey, foldTasks, instanceRecords, taskTableLines } from '../../src/task-lines';

const tasks: TaskRecord[] = [
  { taskId: 'extract', state: 'success', startedAt: '2024-03-01T06:00:01.000Z', durationMs: 1500, output: { rows: 3 } },
  { taskId: 'load.region_eu', state: 'success', startedAt: '2024-03-01T06:00:03.000Z', durationMs: 2000, output: { rows: 2 } },
  { taskId: 'transform[0]', state: 'success', startedAt: '2024-03-01T06:00:03.000Z', durationMs: 500 },
  { taskId: 'load.region_us', state: 'failed', startedAt: '2024-03-01T06:00:03.000Z', durationMs: 100, error: 'us exited with 1' },
  { taskId: 'load.eu.orders', state: 'success', startedAt: '2024-03-01T06:00:05.000Z', durationMs: 700 },
  { taskId: 'load.eu.customers', state: 'success', startedAt: '2024-03-01T06:00:05.000Z', durationMs: 800 },
  { taskId: 'transform[1]', state: 'running', startedAt: '2024-03-01T06:00:04.000Z' },
  { taskId: 'transform[2]', state: 'scheduled' },
  { taskId: 'report', state: 'upstream_failed' },
];

test('a task folds into its outermost group, or its name without an instance index', () => {
  assert.deepEqual(['extract', 'load.region_eu', 'load.eu.orders', 'transform[3]', 'transform[12]', 'load[2].orders', 'report'].map(foldKey), [
    'extract',
    'load',
    'load',
    'transform',
    'transform',
    'load',
    'report',
  ]);
});

test('folding gives one line per group and per mapped task, counted by state, where its first task is', () => {
  assert.deepEqual(foldTasks(tasks), [
    { kind: 'task', task: tasks[0] },
    {
      kind: 'folded',
      id: 'load',
      states: [
        ['success', 3],
        ['failed', 1],
      ],
    },
    {
      kind: 'folded',
      id: 'transform',
      states: [
        ['success', 1],
        ['running', 1],
        ['scheduled', 1],
      ],
    },
    { kind: 'task', task: tasks[8] },
  ]);
});

test('runs show prints the folded table, and with --all each task', () => {
  assert.deepEqual(taskTableLines(tasks), [
    '  extract            success         06:00:01    1.5s  rows=3',
    '  load               success 3  failed 1',
    '  transform          success 1  running 1  scheduled 1',
    '  report             upstream_failed',
  ]);
  assert.deepEqual(taskTableLines(tasks, { all: true }), [
    '  extract            success         06:00:01    1.5s  rows=3',
    '  load.region_eu     success         06:00:03    2.0s  rows=2',
    '  transform[0]       success         06:00:03    0.5s',
    '  load.region_us     failed          06:00:03    0.1s  error: us exited with 1',
    '  load.eu.orders     success         06:00:05    0.7s',
    '  load.eu.customers  success         06:00:05    0.8s',
    '  transform[1]       running         06:00:04',
    '  transform[2]       scheduled',
    '  report             upstream_failed',
  ]);
  // A task id longer than the column widens it.
  assert.deepEqual(taskTableLines([{ taskId: 'load.eu.customers_by_region', state: 'success' }], { all: true }), ['  load.eu.customers_by_region success']);
});

test("a mapped task's record folds into one line counting its instances by how they ended; --all shows each instance from its batches, with its label", () => {
  const mapped: TaskRecord[] = [
    { taskId: 'list_files', state: 'success', output: { items: 3 } },
    {
      taskId: 'load_file',
      state: 'failed',
      error: '1 of 3 instances failed: load_file[1] (b.csv): bad header',
      mapped: { total: 3, success: 2, failed: 1, reused: 1, batches: ['run~load_file~0'] },
    },
  ];
  assert.deepEqual(taskTableLines(mapped), ['  list_files         success                           items=3', '  load_file          success 2  failed 1']);
  const instances = instanceRecords('load_file', [
    { index: 0, label: 'a.csv', state: 'success', hash: '1', startedAt: '2024-03-01T06:00:01.000Z', durationMs: 1000, reused: true },
    { index: 1, label: 'b.csv', state: 'failed', hash: '2', error: 'bad header' },
    { index: 2, state: 'success', hash: '3', output: { rows: 5 } },
  ]);
  assert.deepEqual(taskTableLines([mapped[0], ...instances], { all: true }), [
    '  list_files         success                           items=3',
    '  load_file[0]       success         06:00:01    1.0s  label=a.csv reused=yes',
    '  load_file[1]       failed                            error: bad header',
    '  load_file[2]       success',
  ]);
});
