/** A DAG file with task groups for the engine's workflow test (groups.test.ts). */
import { command, dag, group, ownTasks, z } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';

/**
 * extract, then the group load (its roots after extract): region_eu and region_us at once, and
 * the inner group checks reading region_eu's output; report after the whole group (its leaves:
 * region_us and checks.rows), reading a field of the inner group's task. Conf says which
 * command fails, and region_us takes a while so report has to wait for it.
 */
export const groups = dag(
  {
    dagId: 'engine_groups',
    schedule: '@daily',
    startDate: '2024-01-01',
    maxActiveRuns: null,
    params: z.object({ extract: z.enum(['ok', 'fail']).default('ok'), us: z.enum(['slow', 'fail']).default('slow') }),
  },
  ({ ds, params }) => {
    const extract = command('extract', { argv: ['extract', `${params.extract}`] });
    const load = group('load', { upstream: [extract] }, () => {
      const eu = command('region_eu', { argv: ['region_eu', `${ds}`] });
      const us = command('region_us', { argv: ['region_us', `${params.us}`] });
      const checks = group('checks', () => {
        const rows = command('rows', { argv: ['rows', `${eu.tail}`] });
        return { rows };
      });
      return { eu, us, checks };
    });
    command('report', { argv: ['report', `${load.checks.rows.tail}`], upstream: [load] });
  },
);

const own = ownTasks<{ produce: (args: { day: string }) => Promise<{ path: string; bytes: number }> }>();

/** A cached task of a group: its cache entry is keyed by its dotted id. */
export const cached = dag({ dagId: 'engine_groups_cached', schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null }, ({ ds }) => {
  group('stage', () => void own.produce('produce', { args: { day: ds }, cache: { expiresIn: '1h', policy: 'inputs' } }));
});

registerDagFiles([groups, cached]);
