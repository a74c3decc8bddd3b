/**
 * DAG files for waitForDag's workflow tests: a daily DAG, and DAGs of other cadences waiting for
 * its runs, whole or one task, for a shifted date. Registered as a bundle's entry is (src/dag-files.ts).
 */
import { command, dag, waitForDag, z } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';

const base = { schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null, defaultArgs: { retries: 0 } } as const;

/** The DAG waited for: extract, then load (which fails, or takes 3 s, when params say so); maybe is skipped unless params say run. */
export const daily = dag(
  { ...base, dagId: 'wait_daily', params: z.object({ load: z.enum(['ok', 'fail', 'slow']).default('ok'), maybe: z.boolean().default(false) }) },
  ({ params }) => {
    const extract = command('extract', { argv: ['extract'] });
    command('load', { upstream: [extract], argv: ['load', `${params.load}`] });
    command('maybe', { inputs: { maybe: params.maybe }, skipIf: ({ maybe }) => !maybe && 'params.maybe is false', argv: ['maybe'] });
  },
);

/** Weekly, on Mondays: waits for Sunday's run of wait_daily, then reports what it waited for. */
export const weekly = dag({ ...base, dagId: 'wait_weekly', schedule: '0 6 * * 1' }, () => {
  const sunday = waitForDag('sunday_done', { dag: 'wait_daily', shift: { days: -1 }, pokeInterval: '10m', timeout: '1h' });
  command('report', { argv: ['report', `${sunday.ds}`, `${sunday.workflowId}`, `${sunday.checks}`] });
});

/** Run when triggered: waits for two tasks of wait_daily's run of its date, extract (deferrable) and maybe, each with a task after it. */
export const tasks = dag({ ...base, dagId: 'wait_tasks', schedule: '0 0 * * *', timetable: 'trigger' }, () => {
  const extracted = waitForDag('extracted', { dag: 'wait_daily', task: 'extract', mode: 'deferrable', pokeInterval: '1m', timeout: '1h' });
  command('use_extract', { upstream: [extracted], argv: ['use_extract'] });
  const maybeDone = waitForDag('maybe_done', { dag: 'wait_daily', task: 'maybe', pokeInterval: '1m', timeout: '1h' });
  command('after_maybe', { upstream: [maybeDone], argv: ['after_maybe'] });
});

/** Waits for wait_daily's load of the day before its date (a templated ds), then publishes. */
export const load = dag({ ...base, dagId: 'wait_load' }, () => {
  const loaded = waitForDag('loaded', { dag: 'wait_daily', task: 'load', ds: '{{ macros.ds_add(ds, -1) }}', pokeInterval: '1m', timeout: '1h' });
  command('publish', { upstream: [loaded], argv: ['publish'] });
});

/** Two waits for a run that never comes, 5 minutes each: one fails, one soft-fails (with backoff) and skips what follows it. */
export const timeouts = dag({ ...base, dagId: 'wait_timeouts' }, () => {
  waitForDag('hard', { dag: 'wait_daily', pokeInterval: '1m', timeout: '5m' });
  const soft = waitForDag('soft', { dag: 'wait_daily', pokeInterval: '1m', timeout: '5m', softFail: true, exponentialBackoff: true });
  command('after_soft', { upstream: [soft], argv: ['after_soft'] });
});

registerDagFiles([daily, weekly, tasks, load, timeouts]);
