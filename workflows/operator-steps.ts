/**
 * One try of a DAG file's task: its operator's step (src/operators/steps.ts), given Baton's
 * activities with the task's timeout, heartbeat, priority and Web UI line. The engine
 * (engine.ts) owns retries, callbacks and the task table around it.
 */
import type { Duration } from '@temporalio/common';
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OperatorInput } from '../src/operators/common';
import { OPERATOR_STEPS, type OperatorStep } from '../src/operators/steps';
import { temporalPriorityKey } from '../src/pools';
import type { CompiledDag, CompiledTask } from '../src/sdk/compile';
import { render } from '../src/sdk/templates';
import type { OperatorName, RunContext } from '../src/sdk/types';
import type { DagRunContext } from './dag';
import { DATA_TASK_HEARTBEAT_TIMEOUT } from './task-options';

export interface ResolvedOptions {
  attempts: number;
  delayMs: number;
  backoff: boolean;
  maxDelayMs: number;
  timeout: Duration;
  priorityWeight?: number;
}

/** One try of the task: its operator's step. */
export async function runOperator(
  dag: CompiledDag,
  task: CompiledTask,
  run: DagRunContext,
  ctx: RunContext,
  options: ResolvedOptions,
  attempt: number,
): Promise<unknown> {
  const definition = task.definition;
  // Compiled DAGs name known operators only; a task as data that does not is refused, not guessed at.
  if (!Object.hasOwn(OPERATOR_STEPS, definition.operator)) {
    throw ApplicationFailure.nonRetryable(`${task.taskId}: unknown operator ${JSON.stringify(definition.operator)}`, 'DagDefinitionError');
  }
  const base: OperatorInput = { dagId: dag.dagId, taskId: task.taskId, ds: run.ds, ...(run.key !== run.ds ? { ts: run.key } : {}), attempt };
  const activities = proxyActivities<Activities>({
    startToCloseTimeout: options.timeout,
    heartbeatTimeout: (run.settings.heartbeatTimeout ?? DATA_TASK_HEARTBEAT_TIMEOUT) as Duration,
    // The engine retries (so on_retry and the task table see each try); the server never does.
    retry: { maximumAttempts: 1 },
    ...(options.priorityWeight !== undefined ? { priority: { priorityKey: temporalPriorityKey(options.priorityWeight) } } : {}),
    // The Web UI's line for the activity: the task's doc (templated), or its operator.
    summary: `${task.taskId}: ${definition.doc ? render(definition.doc, ctx) : definition.operator}`,
  });
  // The table pairs each operator with the step of its tasks.
  const step = OPERATOR_STEPS[definition.operator] as OperatorStep<OperatorName>;
  return step(definition, { dag, task, run, ctx, base, activities });
}
