/** The `branch` operator's step: its function chooses, in the workflow, which tasks directly downstream run; the engine skips the others. */
import { ApplicationFailure } from '@temporalio/workflow';
import type { OperatorStep } from '../steps';

export const branchStep: OperatorStep<'branch'> = (definition, { task, ctx }) => {
  const chosen = definition.choose(ctx);
  const follow = typeof chosen === 'string' ? [chosen] : [...chosen];
  const wrong = follow.filter((id) => !task.downstream.includes(id));
  if (wrong.length) {
    throw ApplicationFailure.nonRetryable(
      `branch chose ${wrong.join(', ')}, not directly downstream of ${task.taskId} (${task.downstream.join(', ') || 'none'})`,
      'BranchError',
    );
  }
  return { follow };
};
