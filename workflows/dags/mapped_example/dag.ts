/**
 * Dynamic task mapping: the day's partitions are listed by a task, then marked by one instance
 * each (Airflow's expand), at most 50 at once, each retried on its own; the total reads the
 * instances' outputs as one typed list. Thousands of partitions go through batch workflows.
 *
 *   baton trigger mapped_example --ds 2024-05-06 --conf '{"partitions": 10000}' --wait
 *   baton runs show mapped_example 2024-05-06 --all
 */
import { dag, ownTasks, z } from 'baton/sdk';

const own = ownTasks<typeof import('./activities')>();

export default dag(
  {
    dagId: 'mapped_example',
    description: "One task instance per partition of the day, then a total over the instances' outputs",
    schedule: '@daily',
    startDate: '2024-01-01',
    tags: ['example', 'mapping'],
    pausedOnCreation: true,
    maxActiveRuns: 4,
    params: z.object({ partitions: z.number().int().min(0).max(100_000).default(24) }),
    defaultArgs: { owner: 'data-team', retries: 2, retryDelay: '5s' },
  },
  ({ ds, params }) => {
    const partitions = own.listPartitions('list_partitions', { args: { count: params.partitions } });
    const marks = own.markPartition.expand('mark_partition', {
      over: partitions,
      args: (partition, _index, run) => ({ ds: run.ds, partition }),
      label: (partition) => `partition ${partition}`,
      maxActive: 50,
    });
    own.summarize('summarize', { args: { ds, marks } });
  },
);
