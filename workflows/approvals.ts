/**
 * Approvals in a DAG run: the `answerApproval` update a person answers an approval task with
 * (`baton runs approve|reject`, the console), checked before it is accepted (the task waits, it
 * has no answer yet, the answer fits the task), and the wait itself: a condition with an
 * optional timeout, so waiting holds no worker slot. Deterministic.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { ApplicationFailure, condition, defineUpdate, setHandler } from '@temporalio/workflow';
import { MAX_REASON_CHARS, Updates, type ApprovalAnswer, type Operator } from '../src/contracts';
import type { ApprovalTask } from '../src/operators/approval/definition';
import type { CompiledDag } from '../src/sdk/compile';
import type { TaskTable } from './task-table';

export const answerUpdate = defineUpdate<string, [ApprovalAnswer]>(Updates.answerApproval);

/** What an approval task hands on: the decision, who made it, when and why, and what was chosen or entered. */
export interface ApprovalResult {
  approved: boolean;
  by: string;
  at: string;
  reason?: string;
  chosen?: string[];
  value?: unknown;
}

const MAX_VALUE_BYTES = 16 * 1024;

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
        this.answers.set(answer.taskId, this.resultOf(answer));
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
      if (answered) return this.answers.get(taskId)!;
      if (!task.onTimeout) throw ApplicationFailure.nonRetryable(`${taskId}: no answer within ${task.timeout}`, 'ApprovalTimedOut');
      const outcome = task.onTimeout;
      const result: ApprovalResult = {
        approved: outcome !== 'reject',
        by: 'timeout',
        at: new Date().toISOString(),
        reason: `no answer within ${task.timeout}`,
        ...(typeof outcome === 'object' && 'choose' in outcome ? { chosen: [...outcome.choose] } : {}),
        ...(typeof outcome === 'object' && 'value' in outcome ? { value: outcome.value } : {}),
      };
      this.answers.set(taskId, result);
      return result;
    } finally {
      this.waiting.delete(taskId);
    }
  }

  private resultOf(answer: ApprovalAnswer): ApprovalResult {
    const task = this.approvalTask(answer.taskId)!;
    const value = answer.value !== undefined && task.schema ? (task.schema.safeParse(answer.value) as { data: unknown }).data : answer.value;
    return {
      approved: answer.decision === 'approve',
      by: answer.by,
      at: new Date().toISOString(),
      ...(answer.reason ? { reason: answer.reason } : {}),
      ...(answer.choose ? { chosen: [...answer.choose] } : {}),
      ...(value !== undefined ? { value } : {}),
    };
  }

  private approvalTask(taskId: string): ApprovalTask | undefined {
    const found = this.dag.tasks.find((t) => t.taskId === taskId);
    return found?.definition.operator === 'approval' ? found.definition : undefined;
  }

  /** Refuses an answer the task cannot take, naming why. */
  private check(answer: ApprovalAnswer): void {
    if (!answer || typeof answer.taskId !== 'string') throw new Error('an answer names its task (taskId)');
    const task = this.approvalTask(answer.taskId);
    if (!task) {
      const approvals = this.dag.tasks.filter((t) => t.definition.operator === 'approval').map((t) => t.taskId);
      throw new Error(`${answer.taskId} is not an approval task of ${this.dag.dagId}; its approval tasks are ${approvals.join(', ') || 'none'}`);
    }
    const first = this.answers.get(answer.taskId);
    if (first)
      throw new Error(
        `${answer.taskId} was already ${first.approved ? 'approved' : 'rejected'} by ${first.by} at ${first.at}${first.reason ? ` (${first.reason})` : ''}: a second answer is refused`,
      );
    if (!this.waiting.has(answer.taskId)) throw new Error(`${answer.taskId} is not waiting for an answer: it is ${this.tasks.state(answer.taskId)}`);
    checkOperator(answer);
    if (answer.decision !== 'approve' && answer.decision !== 'reject') throw new Error(`an answer approves or rejects, not ${JSON.stringify(answer.decision)}`);
    if (answer.decision === 'reject') {
      if (answer.choose !== undefined || answer.value !== undefined) throw new Error('a rejection takes no choice and no value');
      return;
    }
    if (task.options) {
      const chosen = answer.choose ?? [];
      const wrong = chosen.filter((c) => !task.options!.includes(c));
      if (!chosen.length || wrong.length || new Set(chosen).size !== chosen.length)
        throw new Error(
          `${answer.taskId} is approved by choosing from ${task.options.join(', ')}${wrong.length ? `; ${wrong.join(', ')} is not one of them` : ''}`,
        );
    } else if (answer.choose !== undefined) throw new Error(`${answer.taskId} offers no options to choose from`);
    if (task.schema) {
      if (answer.value === undefined) throw new Error(`${answer.taskId} is approved with a value (--value <json>)`);
      const size = JSON.stringify(answer.value).length;
      if (size > MAX_VALUE_BYTES) throw new Error(`the value is ${size} bytes, more than the ${MAX_VALUE_BYTES} an answer takes`);
      const parsed = task.schema.safeParse(answer.value);
      if (!parsed.success)
        throw new Error(
          `${answer.taskId}: the value does not fit its schema: ${parsed.error.issues.map((i) => `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`).join('; ')}`,
        );
    } else if (answer.value !== undefined) throw new Error(`${answer.taskId} takes no value`);
  }
}

/** Refuses an operation that does not say who asked, or says too much of why. */
export function checkOperator(operator: Operator): void {
  if (typeof operator.by !== 'string' || !operator.by || operator.by.length > 200)
    throw new Error('an operation says who asked (by), in 200 characters at most');
  if (operator.reason !== undefined && (typeof operator.reason !== 'string' || operator.reason.length > MAX_REASON_CHARS))
    throw new Error(`a reason is text of ${MAX_REASON_CHARS} characters at most`);
}
