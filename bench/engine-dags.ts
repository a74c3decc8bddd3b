/**
 * The DAG engine's side of the overhead scenario: DAG files (as data, in the bench bundle) of
 * no-op tasks, each the bench worker's no-op activity as a DAG's own task. A chain of 7 beside
 * noopDag, Baton's hand-written workflow of the same 7 tasks; one branch of 5, and two
 * independent branches of 5, which the engine runs side by side.
 */
import { dag, task, type DagFileDefinition, type TaskDefinition } from '../src/sdk';

/** The no-op activity every task calls: `<dag_id>.noopTask`. */
export const NOOP_ACTIVITY = 'noopTask';

/** `<prefix>_1 >> <prefix>_2 >> ... >> <prefix>_<n>` */
function chainOf(prefix: string, n: number): Record<string, TaskDefinition> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`${prefix}_${i + 1}`, task({ activity: NOOP_ACTIVITY, ...(i ? { upstream: [`${prefix}_${i}`] } : {}) })]),
  );
}

const bench = (dagId: string, tasks: Record<string, TaskDefinition>): DagFileDefinition =>
  dag({ dagId, schedule: '0 6 * * *', startDate: '2024-01-01', maxActiveRuns: null, tags: ['bench'], defaultArgs: { owner: 'bench', retries: 0 }, tasks });

export const engineChain = bench('bench_engine_chain', chainOf('task', 7));
export const engineOneBranch = bench('bench_engine_branch', chainOf('a', 5));
export const engineTwoBranches = bench('bench_engine_branches', { ...chainOf('a', 5), ...chainOf('b', 5) });

export const ENGINE_DAGS = [engineChain, engineOneBranch, engineTwoBranches];
