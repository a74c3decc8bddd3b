/** DAG files for the workflow test of deadlines and notifiers (deadlines.test.ts). */
import { approval, dag, ownTasks, result } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';

const own = ownTasks<{
  flaky: (args: { day: string }) => Promise<{ rows: number }>;
  count: (args: { day: string }) => Promise<{ rows: number }>;
}>();

/**
 * A run that must be done 30 minutes after it starts; hold waits for an answer up to the hour
 * the run's conf gives it (approve then), so a run is late or in time as the test wants.
 */
export const deadlines = dag(
  {
    dagId: 'deadlines',
    schedule: '@daily',
    startDate: '2024-01-01',
    maxActiveRuns: null,
    deadline: { after: 'run_start', within: '30m' },
    notifiers: [
      { webhook: 'ops_hook', on: ['deadline', 'failure', 'success', 'empty', 'retry', 'approval'] },
      { email: ['oncall@example.com'], on: ['deadline'] },
    ],
  },
  () => {
    approval('hold', { subject: 'hold on', timeout: '45m', onTimeout: 'approve' });
  },
);

/** The same, released after 10 minutes: done in time. */
export const inTime = dag(
  {
    dagId: 'in_time',
    schedule: '@daily',
    startDate: '2024-01-01',
    maxActiveRuns: null,
    deadline: { after: 'run_start', within: '30m' },
    notifiers: [{ webhook: 'ops_hook', on: ['deadline'] }],
  },
  () => {
    approval('hold', { subject: 'hold on', timeout: '10m', onTimeout: 'approve' });
  },
);

/** Each event to its notifiers: a task's own (count's failure) and the DAG's (retries, an empty day, the run's failure). */
export const events = dag(
  {
    dagId: 'events',
    schedule: '@daily',
    startDate: '2024-01-01',
    maxActiveRuns: null,
    defaultArgs: { retries: 1, retryDelay: '1m' },
    notifiers: [{ webhook: 'ops_hook', on: ['failure', 'retry', 'empty', 'success'] }],
  },
  ({ ds }) => {
    const flaky = own.flaky('flaky', { args: { day: ds } });
    const counted = own.count('count', { upstream: [flaky], args: { day: ds }, retries: 0, notifiers: [{ webhook: 'team_hook', on: ['failure', 'success'] }] });
    return result({ counted }, ({ counted }) => ({ rows: counted.rows, empty: counted.rows === 0 }));
  },
);

registerDagFiles([deadlines, inTime, events]);
