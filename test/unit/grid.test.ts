/** `baton runs grid`'s layout (src/grid.ts): its exact text for a known set of runs, plain and in colour. */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { gridLines, type GridRun } from '../../src/grid';
import type { TaskRecord } from '../../src/contracts';

const t = (taskId: string, state: TaskRecord['state'], error?: string): TaskRecord => ({ taskId, state, ...(error ? { error } : {}) });
const RUNS: GridRun[] = [
  {
    key: '2024-06-01',
    workflowId: 'etl-2024-06-01',
    status: 'FAILED',
    tasks: [t('extract', 'success'), t('load', 'failed', 'load 2024-06-01: deadlock detected\nDETAIL: process 7 waits'), t('validate', 'upstream_failed')],
  },
  { key: '2024-06-02', workflowId: 'etl-2024-06-02', status: 'COMPLETED', tasks: [t('extract', 'success'), t('load', 'success'), t('validate', 'skipped')] },
  { key: '2024-06-03', workflowId: 'etl-2024-06-03', status: 'RUNNING', tasks: [t('extract', 'success'), t('load', 'running'), t('validate', 'scheduled')] },
  { key: '2024-06-04', workflowId: 'etl-2024-06-04', status: 'COMPLETED', tasks: [t('extract', 'success'), t('load', 'success')] },
  { key: '2024-06-05', workflowId: 'etl-2024-06-05', status: 'TERMINATED' },
];

test('the grid: runs as columns oldest first, tasks as rows, a letter per state, the legend, and each failed cell’s first error line', () => {
  assert.deepEqual(gridLines('etl', RUNS, ['extract', 'load', 'validate']), [
    'etl: 5 runs, 2024-06-01 to 2024-06-05, oldest first (2024)',
    '          06-01  06-02  06-03  06-04  06-05',
    'run       F      S      R      S      T',
    'extract   S      S      S      S      ?',
    'load      F      S      R      S      ?',
    'validate  U      K      .      -      ?',
    '',
    'S success  F failed  U upstream_failed  K skipped  R running  Q queued  . scheduled  - not in the run  ? not read',
    '',
    '2024-06-01 load: load 2024-06-01: deadlock detected',
  ]);
});

test('on a terminal each letter is in its colour; a sub-daily DAG heads its columns with date and time', () => {
  const [, , run] = gridLines('etl', RUNS.slice(0, 2), ['extract'], { colour: true });
  assert.equal(run, 'run       \x1b[31mF\x1b[0m      \x1b[32mS\x1b[0m');
  const hourly = gridLines('hourly', [{ key: '2024-06-01T13:00:00+00:00', workflowId: 'h', status: 'COMPLETED', tasks: [t('a', 'success')] }], ['a']);
  assert.deepEqual(hourly.slice(1, 4), ['     06-01', '     13:00', 'run  S']);
  assert.deepEqual(gridLines('none', [], []), ['none: no runs yet']);
});
