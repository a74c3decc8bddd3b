/**
 * DAG files for the workflow test of operating runs (operate.test.ts). Only the SDK: the test
 * reads them in its own process, and operate-probe.ts registers them in the worker's bundle.
 */
import { approval, dag, empty, ownTasks, z } from '../../src/sdk';

const own = ownTasks<{
  extract: (args: { day: string }) => Promise<{ path: string; rows: number }>;
  transform: (args: { path: string; rows: number }) => Promise<{ clean: number }>;
  load: (args: { day: string; clean: number }) => Promise<{ loaded: number }>;
  audit: (args: { rows: number }) => Promise<{ audited: number }>;
  validate: (args: { loaded: number }) => Promise<{ checks: number }>;
  publish: (args: { day: string; loaded: number }) => Promise<{ published: number }>;
  listItems: (args: { n: number }) => Promise<number[]>;
  touch: (args: { id: number; day: string }) => Promise<{ id: number }>;
  useLimit: (args: { limit: number; by: string }) => Promise<{ limit: number }>;
}>();

/**
 * extract >> transform >> load >> validate >> publish, and audit beside them after extract: a
 * clear from load keeps extract, transform and audit, and hands load what transform returned.
 */
export const clearEtl = dag({ dagId: 'clear_etl', schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null, defaultArgs: { retries: 0 } }, ({ ds }) => {
  const extracted = own.extract('extract', { args: { day: ds } });
  const transformed = own.transform('transform', { args: { path: extracted.path, rows: extracted.rows } });
  own.audit('audit', { args: { rows: extracted.rows } });
  const loaded = own.load('load', { args: { day: ds, clean: transformed.clean } });
  const validated = own.validate('validate', { args: { loaded: loaded.loaded } });
  own.publish('publish', { upstream: [validated], args: { day: ds, loaded: loaded.loaded } });
});

/** A task mapped over list_items' ids: a clear naming instances runs only those. */
export const clearMapped = dag({ dagId: 'clear_mapped', schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null, defaultArgs: { retries: 0 } }, () => {
  const items = own.listItems('list_items', { args: { n: 6 } });
  own.touch.expand('touch', { over: items, args: (id, _index, run) => ({ id, day: run.ds }) });
});

/**
 * Three approvals: sign_off gates publish (a rejection skips it), pick chooses fast or full, and
 * threshold takes a typed limit (5 after an hour without an answer) that use_limit reads.
 */
export const approvals = dag(
  { dagId: 'approvals', schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null, defaultArgs: { retries: 0 } },
  ({ ds }) => {
    const signOff = approval('sign_off', { subject: 'Publish {{ ds }}?', body: 'Check the numbers first.' });
    own.publish('publish', { upstream: [signOff], args: { day: ds, loaded: 1 } });
    const pick = approval('pick', { subject: 'Which rebuild?', options: ['fast', 'full'] });
    empty('fast', { upstream: [pick] });
    empty('full', { upstream: [pick] });
    const threshold = approval('threshold', {
      subject: 'Alert threshold for {{ ds }}?',
      schema: z.object({ limit: z.number().int().min(1).max(100) }),
      timeout: '1h',
      onTimeout: { value: { limit: 5 } },
    });
    own.useLimit('use_limit', { args: { limit: threshold.value.limit, by: threshold.by } });
  },
);

/** An hourly DAG: its runs are named and cleared by their ts. */
export const clearHourly = dag(
  { dagId: 'clear_hourly', schedule: '@hourly', startDate: '2024-01-01', maxActiveRuns: null, defaultArgs: { retries: 0 } },
  ({ ts }) => {
    const extracted = own.extract('extract', { args: { day: ts } });
    own.transform('transform', { args: { path: extracted.path, rows: extracted.rows } });
  },
);
