/**
 * What an answer to an approval task must be, and what it makes of the task's output: shared by
 * the run (its update validator, workflows/approvals.ts) and whoever asks before sending one.
 * Pure: the workflow sandbox imports it.
 */
import { MAX_REASON_CHARS, type ApprovalAnswer, type Operator } from './contracts';
import type { ApprovalTask } from './operators/approval/definition';

/** What an approval task hands on: the decision, who made it, when and why, and what was chosen or entered. */
export interface ApprovalResult {
  approved: boolean;
  by: string;
  at: string;
  reason?: string;
  chosen?: string[];
  value?: unknown;
}

/** The largest value an answer carries (it becomes the task's output, XCom). */
export const MAX_ANSWER_VALUE_BYTES = 16 * 1024;

/** Refuses an operation that does not say who asked, or says too much of why. */
export function checkOperator(operator: Operator): void {
  if (typeof operator.by !== 'string' || !operator.by || operator.by.length > 200)
    throw new Error('an operation says who asked (by), in 200 characters at most');
  if (operator.reason !== undefined && (typeof operator.reason !== 'string' || operator.reason.length > MAX_REASON_CHARS))
    throw new Error(`a reason is text of ${MAX_REASON_CHARS} characters at most`);
}

/** Refuses an answer that does not fit its task, naming why: the decision, the choice, the value against the schema. */
export function checkAnswer(task: ApprovalTask, answer: ApprovalAnswer): void {
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
    if (size > MAX_ANSWER_VALUE_BYTES) throw new Error(`the value is ${size} bytes, more than the ${MAX_ANSWER_VALUE_BYTES} an answer takes`);
    const parsed = task.schema.safeParse(answer.value);
    if (!parsed.success)
      throw new Error(
        `${answer.taskId}: the value does not fit its schema: ${parsed.error.issues.map((i) => `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`).join('; ')}`,
      );
  } else if (answer.value !== undefined) throw new Error(`${answer.taskId} takes no value`);
}

/** The task's output from an answer it took, at `at` (ISO 8601): the value as its schema parsed it. */
export function answerResult(task: ApprovalTask, answer: ApprovalAnswer, at: string): ApprovalResult {
  const value = answer.value !== undefined && task.schema ? (task.schema.safeParse(answer.value) as { data: unknown }).data : answer.value;
  return {
    approved: answer.decision === 'approve',
    by: answer.by,
    at,
    ...(answer.reason ? { reason: answer.reason } : {}),
    ...(answer.choose ? { chosen: [...answer.choose] } : {}),
    ...(value !== undefined ? { value } : {}),
  };
}

/** The task's output when its timeout passed without an answer: its onTimeout, by `timeout`. */
export function timeoutResult(task: ApprovalTask & { onTimeout: NonNullable<ApprovalTask['onTimeout']> }, at: string): ApprovalResult {
  const outcome = task.onTimeout;
  return {
    approved: outcome !== 'reject',
    by: 'timeout',
    at,
    reason: `no answer within ${task.timeout}`,
    ...(typeof outcome === 'object' && 'choose' in outcome ? { chosen: [...outcome.choose] } : {}),
    ...(typeof outcome === 'object' && 'value' in outcome ? { value: outcome.value } : {}),
  };
}

/** Why an answer to a task that already has one is refused: the first answer, named. */
export const secondAnswer = (taskId: string, first: ApprovalResult) =>
  `${taskId} was already ${first.approved ? 'approved' : 'rejected'} by ${first.by} at ${first.at}${first.reason ? ` (${first.reason})` : ''}: a second answer is refused`;
