/** A DAG file with a mapped task for the engine's workflow test (mapped.test.ts). */
import { dag, ownTasks, z } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';
export { mappedTaskBatch } from '../../workflows/mapped';

type Item = { id: number; name: string };
const own = ownTasks<{
  listItems: (args: { n: number }) => Promise<Item[]>;
  touch: (args: { id: number; day: string }) => Promise<{ id: number; rows: number }>;
  total: (args: { outputs: Array<{ id: number; rows: number }> }) => Promise<{ instances: number; rows: number }>;
}>();

/** list_items returns n items; touch runs once per item, 50 at most at once; total reads the instances' outputs as a list. */
export const mapped = dag(
  { dagId: 'engine_mapped', schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null, params: z.object({ n: z.number().int().default(10) }) },
  ({ params }) => {
    const items = own.listItems('list_items', { args: { n: params.n } });
    const touched = own.touch.expand('touch', {
      over: items,
      args: (item, _index, run) => ({ id: item.id, day: run.ds }),
      label: (item) => item.name,
      maxActive: 50,
      retries: 1,
      retryDelay: '1s',
    });
    own.total('total', { args: { outputs: touched } });
  },
);

registerDagFiles([mapped]);
