/**
 * The DAG shapes Airflow ran for the recorded table (bench/peers/trigger_rules_dag.py), built
 * with Baton's SDK under the same task ids: for each trigger rule and each pair of upstream
 * outcomes a task with that rule after two that end so, and a setup with the work in its scope
 * and its teardown, for each way the setup and the work end.
 */
import { command, dag, empty, TRIGGER_RULES, type TaskOf } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';
import { PAIRS, type Outcome } from './trigger-rules-shapes';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';

/** A task that ends as `outcome`: a command that succeeds or exits 1, a skipIf, or a task after one that failed. */
function ending(taskId: string, outcome: Outcome, extra: { setup?: boolean; upstream?: TaskOf<unknown>[] } = {}): TaskOf<unknown> {
  if (outcome === 'success') return command(taskId, { ...extra, argv: ['ok'] });
  if (outcome === 'failed') return command(taskId, { ...extra, argv: ['fail'] });
  if (outcome === 'skipped') return empty(taskId, { ...extra, skipIf: () => 'skips' });
  const cause = command(`${taskId}_cause`, { argv: ['fail'] });
  return command(taskId, { ...extra, upstream: [...(extra.upstream ?? []), cause], argv: ['ok'] });
}

export const triggerRules = dag(
  { dagId: 'engine_trigger_rules', schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null, defaultArgs: { retries: 0 } },
  () => {
    for (const rule of TRIGGER_RULES) {
      for (const [a, b] of PAIRS) {
        const prefix = `${rule}__${a}__${b}`;
        empty(`${prefix}__t`, { upstream: [ending(`${prefix}__u1`, a), ending(`${prefix}__u2`, b)], triggerRule: rule });
      }
    }
    for (const s of ['success', 'failed', 'skipped'] as const) {
      for (const w of ['success', 'failed'] as const) {
        const prefix = `setup__${s}__${w}`;
        const setup = ending(`${prefix}__setup`, s, { setup: true });
        const work = ending(`${prefix}__work`, w, { upstream: [setup] });
        const report = command(`${prefix}__report`, { upstream: [work], triggerRule: 'all_done', argv: ['ok'] });
        command(`${prefix}__teardown`, { upstream: [setup, report], teardown: true, argv: ['ok'] });
      }
    }
  },
);

registerDagFiles([triggerRules]);
