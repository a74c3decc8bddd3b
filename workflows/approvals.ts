/**
 * Approvals in a DAG run: the `answerApproval` update a person answers an approval task with
 * (`baton runs approve|reject`, the console), checked before it is accepted (the task waits, it
 * has no answer yet, the answer fits the task: src/approvals.ts), and the wait itself: a
 * condition with an optional timeout, so waiting holds no worker slot. Deterministic.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { ApplicationFailure, condition, defineUpdate, setHandler } from '@temporalio/workflow';
import { answerResult, checkAnswer, secondAnswer, timeoutResult, type ApprovalResult } from '../src/approvals';
import { Updates, type ApprovalAnswer } from '../src/contracts';
import type { ApprovalTask } from '../src/operators/approval/definition';
import type { CompiledDag } from '../src/sdk/compile';
import type { TaskTable } from './task-table';

export { checkOperator, type ApprovalResult } from '../src/approvals';

export const answerUpdate = defineUpdate<string, [ApprovalAnswer]>(Updates.answerApproval);

export class Approvals {
  private readonly waiting = new Set<string>();
  private readonly answers = new Map<string, ApprovalResult>();

  constructor(
    private readonly dag: CompiledDag,
    private readonly tasks: TaskTable,
  ) {
    setHandler(
      answerUpdate,
      (answer) => {
        this.answers.set(answer.taskId, answerResult(this.approvalTask(answer.taskId)!, answer, new Date().toISOString()));
        return `${answer.taskId} ${answer.decision === 'approve' ? 'approved' : 'rejected'} by ${answer.by}`;
      },
      { validator: (answer) => this.check(answer) },
    );
  }

  /** Waits for the task's answer (or its timeout's outcome); its output. */
  async wait(taskId: string, task: ApprovalTask): Promise<ApprovalResult> {
    this.waiting.add(taskId);
    try {
      const has = () => this.answers.has(taskId);
      const answered = task.timeout ? await condition(has, msToNumber(task.timeout as Duration)) : (await condition(has), true);
      // An answer taken in the same moment the timeout fell stands: the person was told it was taken.
      const given = this.answers.get(taskId);
      if (answered || given) return given!;
      if (!task.onTimeout) throw ApplicationFailure.nonRetryable(`${taskId}: no answer within ${task.timeout}`, 'ApprovalTimedOut');
      const result = timeoutResult({ ...task, onTimeout: task.onTimeout }, new Date().toISOString());
      this.answers.set(taskId, result);
      return result;
    } finally {
      this.waiting.delete(taskId);
    }
  }

  private approvalTask(taskId: string): ApprovalTask | undefined {
    const found = this.dag.tasks.find((t) => t.taskId === taskId);
    return found?.definition.operator === 'approval' ? found.definition : undefined;
  }

  /** Refuses an answer the run cannot take, naming why. */
  private check(answer: ApprovalAnswer): void {
    if (!answer || typeof answer.taskId !== 'string') throw new Error('an answer names its task (taskId)');
    const task = this.approvalTask(answer.taskId);
    if (!task) {
      const approvals = this.dag.tasks.filter((t) => t.definition.operator === 'approval').map((t) => t.taskId);
      throw new Error(`${answer.taskId} is not an approval task of ${this.dag.dagId}; its approval tasks are ${approvals.join(', ') || 'none'}`);
    }
    const first = this.answers.get(answer.taskId);
    if (first) throw new Error(secondAnswer(answer.taskId, first));
    if (!this.waiting.has(answer.taskId)) throw new Error(`${answer.taskId} is not waiting for an answer: it is ${this.tasks.state(answer.taskId)}`);
    checkAnswer(task, answer);
  }
}
