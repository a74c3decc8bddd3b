/** DAG files for the workflow test of clearing and marking runs (clear.test.ts). */
import { dag, ownTasks } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';
export { mappedTaskBatch } from '../../workflows/mapped';

const own = ownTasks<{
  extract: (args: { day: string }) => Promise<{ path: string; rows: number }>;
  transform: (args: { path: string; rows: number }) => Promise<{ clean: number }>;
  load: (args: { day: string; clean: number }) => Promise<{ loaded: number }>;
  audit: (args: { rows: number }) => Promise<{ audited: number }>;
  validate: (args: { loaded: number }) => Promise<{ checks: number }>;
  publish: (args: { day: string; loaded: number }) => Promise<{ published: number }>;
  listItems: (args: { n: number }) => Promise<number[]>;
  touch: (args: { id: number; day: string }) => Promise<{ id: number }>;
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
export const clearMapped = dag(
  { dagId: 'clear_mapped', schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null, defaultArgs: { retries: 0 } },
  () => {
    const items = own.listItems('list_items', { args: { n: 6 } });
    own.touch.expand('touch', { over: items, args: (id, _index, run) => ({ id, day: run.ds }) });
  },
);

registerDagFiles([clearEtl, clearMapped]);
