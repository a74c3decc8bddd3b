/**
 * The DAG engine's side of the overhead scenario: DAG files (as data, in the bench bundle) of
 * no-op tasks, each the bench worker's no-op activity as a DAG's own task. A chain of 7 beside
 * noopDag, Baton's hand-written workflow of the same 7 tasks; one branch of 5, and two
 * independent branches of 5, which the engine runs side by side.
 */
import { dag, ownTasks, z, type DagFileDefinition, type TaskOf } from 'baton/sdk';

/** The no-op activity every task calls: `<dag_id>.noopTask`. */
export const NOOP_ACTIVITY = 'noopTask';

const own = ownTasks<{ noopTask: () => Promise<Record<string, never>> }>();

/** `<prefix>_1 >> <prefix>_2 >> ... >> <prefix>_<n>` */
function chainOf(prefix: string, n: number): void {
  let previous: TaskOf<unknown> | undefined;
  for (let i = 1; i <= n; i++) previous = own[NOOP_ACTIVITY](`${prefix}_${i}`, previous ? { upstream: [previous] } : {});
}

const bench = (dagId: string, chains: Array<[string, number]>): DagFileDefinition =>
  dag({ dagId, schedule: '0 6 * * *', startDate: '2024-01-01', maxActiveRuns: null, tags: ['bench'], defaultArgs: { owner: 'bench', retries: 0 } }, () => {
    for (const [prefix, n] of chains) chainOf(prefix, n);
  });

export const engineChain = bench('bench_engine_chain', [['task', 7]]);
export const engineOneBranch = bench('bench_engine_branch', [['a', 5]]);
export const engineTwoBranches = bench('bench_engine_branches', [
  ['a', 5],
  ['b', 5],
]);

/** The console scenario's DAG: 50 no-op tasks, five chains of 10, as wide and long as a grid's rows are in Airflow's reports. */
export const engineGrid = bench('bench_console_grid', [
  ['extract', 10],
  ['clean', 10],
  ['load', 10],
  ['check', 10],
  ['publish', 10],
]);

/** The activity that lists the mapped DAG's items: `<dag_id>.listItems`. */
export const LIST_ACTIVITY = 'listItems';
const mapping = ownTasks<{ listItems: (args: { n: number }) => Promise<number[]>; noopTask: (args: number) => Promise<Record<string, never>> }>();

/** The mapping scenario's DAG: a list of `n` items, then one no-op instance per item, 50 at once. */
export const engineMapped = dag(
  {
    dagId: 'bench_engine_mapped',
    schedule: '0 6 * * *',
    startDate: '2024-01-01',
    maxActiveRuns: null,
    tags: ['bench'],
    params: z.object({ n: z.number().int().default(1000) }),
    defaultArgs: { owner: 'bench', retries: 0 },
  },
  ({ params }) => {
    const items = mapping[LIST_ACTIVITY]('items', { args: { n: params.n } });
    mapping[NOOP_ACTIVITY].expand('each', { over: items, maxActive: 50 });
  },
);

export const ENGINE_DAGS = [engineChain, engineOneBranch, engineTwoBranches, engineMapped, engineGrid];
