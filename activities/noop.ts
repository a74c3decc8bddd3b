/**
 * A task that does nothing but (optionally) wait: the unit of the no-op DAG that measures
 * orchestration itself, in benchmarks and in scheduling tests.
 */
import { ApplicationFailure } from '@temporalio/common';

export interface NoopTaskInput {
  taskId: string;
  ds: string;
  sleepMs?: number;
  /** Fail this task (tests of failure paths: depends_on_past, alerts). */
  fail?: boolean;
}

export function createNoopActivities() {
  async function noopTask({ taskId, ds, sleepMs, fail }: NoopTaskInput): Promise<{ taskId: string }> {
    if (sleepMs) await new Promise((r) => setTimeout(r, Math.min(sleepMs, 600_000)));
    if (fail) throw ApplicationFailure.nonRetryable(`task ${taskId} of ${ds} was asked to fail`, 'RequestedFailure');
    return { taskId };
  }
  return { noopTask };
}
