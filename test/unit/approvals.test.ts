/** What an answer to an approval task must be, and the output it makes (src/approvals.ts), in process. */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { z } from 'zod';
import { answerResult, checkAnswer, checkOperator, secondAnswer, timeoutResult } from '../../src/approvals';
import type { ApprovalTask } from '../../src/operators/approval/definition';

const plain: ApprovalTask = { operator: 'approval', subject: 'Publish?' };
const choice: ApprovalTask = { operator: 'approval', subject: 'Which?', options: ['fast', 'full'] };
const entry: ApprovalTask = {
  operator: 'approval',
  subject: 'Limit?',
  schema: z.object({ limit: z.number().int().min(1) }),
  timeout: '1h',
  onTimeout: { value: { limit: 5 } },
};
const answer = (taskId: string, decision: 'approve' | 'reject', extra: object = {}) => ({ taskId, decision, by: 'lee', ...extra });

test('an answer is refused, naming why, when it does not fit its task', () => {
  assert.doesNotThrow(() => checkAnswer(plain, answer('p', 'approve')));
  assert.throws(() => checkAnswer(plain, answer('p', 'approve', { value: 1 })), /^Error: p takes no value$/);
  assert.throws(() => checkAnswer(plain, answer('p', 'approve', { choose: ['x'] })), /p offers no options to choose from/);
  assert.throws(() => checkAnswer(plain, answer('p', 'maybe' as never)), /an answer approves or rejects, not "maybe"/);
  assert.throws(() => checkAnswer(plain, answer('p', 'reject', { value: 1 })), /a rejection takes no choice and no value/);
  assert.throws(() => checkAnswer(choice, answer('c', 'approve', { choose: ['fast', 'fast'] })), /c is approved by choosing from fast, full$/);
  assert.throws(() => checkAnswer(choice, answer('c', 'approve', { choose: ['slow'] })), /c is approved by choosing from fast, full; slow is not one of them/);
  assert.throws(() => checkAnswer(entry, answer('e', 'approve')), /e is approved with a value \(--value <json>\)/);
  assert.throws(
    () => checkAnswer(entry, answer('e', 'approve', { value: { limit: 0.5 } })),
    /e: the value does not fit its schema: limit: Invalid input: expected int, received number/,
  );
  assert.throws(
    () => checkAnswer(entry, answer('e', 'approve', { value: 'x'.repeat(20_000) })),
    /the value is 20002 bytes, more than the 16384 an answer takes/,
  );
  assert.throws(() => checkOperator({ by: '' }), /an operation says who asked/);
  assert.throws(() => checkOperator({ by: 'lee', reason: 'x'.repeat(1001) }), /a reason is text of 1000 characters at most/);
});

test('the output an answer or a timeout makes, and the refusal of a second answer', () => {
  const at = '2024-06-01T10:00:00.000Z';
  assert.deepEqual(answerResult(choice, answer('c', 'approve', { choose: ['full'], reason: 'big day' }), at), {
    approved: true,
    by: 'lee',
    at,
    reason: 'big day',
    chosen: ['full'],
  });
  assert.deepEqual(answerResult(entry, answer('e', 'approve', { value: { limit: 7, extra: true } }), at), {
    approved: true,
    by: 'lee',
    at,
    value: { limit: 7 },
  });
  assert.deepEqual(timeoutResult({ ...entry, onTimeout: entry.onTimeout! }, at), {
    approved: true,
    by: 'timeout',
    at,
    reason: 'no answer within 1h',
    value: { limit: 5 },
  });
  assert.equal(
    secondAnswer('e', { approved: false, by: 'lee', at, reason: 'off' }),
    'e was already rejected by lee at 2024-06-01T10:00:00.000Z (off): a second answer is refused',
  );
});
