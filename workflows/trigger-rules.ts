/**
 * Airflow's trigger rules: what a task's upstream states decide for it (run, skipped,
 * upstream_failed, or wait), as the task table asks before each task. Pure and deterministic.
 */
import type { TaskState } from '../src/contracts';
import type { TriggerRule } from '../src/sdk/types';

const DONE: readonly TaskState[] = ['success', 'failed', 'skipped', 'upstream_failed'];
export const isFailed = (s: TaskState) => s === 'failed' || s === 'upstream_failed';

/**
 * What a trigger rule decides from the upstream states, as Airflow decides it: run, skipped,
 * upstream_failed, or wait. A rule settles as soon as it can (one_success runs at the first
 * success; all_success is upstream_failed at the first failure), and a task with no upstream runs.
 */
export function evaluateTriggerRule(
  rule: TriggerRule,
  upstream: readonly TaskState[],
  setups: readonly TaskState[] = [],
): 'run' | 'skipped' | 'upstream_failed' | 'wait' {
  if (upstream.length === 0 || rule === 'always') return 'run';
  const done = upstream.every((s) => DONE.includes(s));
  const failed = upstream.some(isFailed);
  const skipped = upstream.some((s) => s === 'skipped');
  const succeeded = upstream.some((s) => s === 'success');
  switch (rule) {
    case 'all_success':
      if (failed) return 'upstream_failed';
      // A skip settles it once the rest are done: a failure among them wins, whichever came first
      // (Airflow's scheduler decides by which it saw first; a run here ends the same every time).
      if (skipped) return done ? 'skipped' : 'wait';
      return upstream.every((s) => s === 'success') ? 'run' : 'wait';
    case 'all_failed':
      if (succeeded || skipped) return 'skipped';
      return done ? 'run' : 'wait';
    case 'all_done':
      return done ? 'run' : 'wait';
    case 'all_done_setup_success':
      // A teardown: once everything upstream is done, if a setup among them succeeded (or there is none).
      if (!done) return 'wait';
      if (setups.length && setups.every((s) => s === 'skipped')) return 'skipped';
      if (setups.length && !setups.includes('success')) return 'upstream_failed';
      return 'run';
    case 'one_success':
      if (succeeded) return 'run';
      if (!done) return 'wait';
      return upstream.every((s) => s === 'skipped') ? 'skipped' : 'upstream_failed';
    case 'one_failed':
      if (failed) return 'run';
      return done ? 'skipped' : 'wait';
    case 'none_failed':
      if (failed) return 'upstream_failed';
      return done ? 'run' : 'wait';
    case 'none_failed_min_one_success':
      // A join after a branch: runs once every upstream is done and one succeeded.
      if (failed) return 'upstream_failed';
      if (!done) return 'wait';
      return succeeded ? 'run' : 'skipped';
    case 'none_skipped':
      if (skipped) return 'skipped';
      return done ? 'run' : 'wait';
    case 'one_done':
      // At the first upstream that succeeded or failed; upstream_failed and skipped are not "done" here.
      if (upstream.some((s) => s === 'success' || s === 'failed')) return 'run';
      return done ? 'skipped' : 'wait';
    case 'all_skipped':
      if (succeeded || failed) return 'skipped';
      return done ? 'run' : 'wait';
    case 'all_done_min_one_success': {
      // Skipped upstream are not "done" for this rule: one skips the task at once.
      if (skipped) return 'skipped';
      if (!done) return 'wait';
      return succeeded ? 'run' : 'upstream_failed';
    }
  }
}
