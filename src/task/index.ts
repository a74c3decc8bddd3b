/**
 * `baton/task`: what a DAG's own tasks (the functions of its activities module) are written
 * against. They run on the worker, in Node: a task is `(args, context) => output`, its args
 * what the DAG passes, its output small JSON (references and counts) that downstream tasks read.
 *
 *   import { failTask, type TaskContext } from 'baton/task';
 *   export async function fiscalDay(args: { ds: string }, { logger }: TaskContext) { ... }
 */
import { ApplicationFailure } from '@temporalio/common';

export type { TaskContext } from './context';

/**
 * An error that fails the task for good, without its retries: bad input that a retry cannot
 * mend. The message names the thing (file, line, value) and what was expected.
 */
export function failTask(message: string, type = 'TaskFailed'): Error {
  return ApplicationFailure.nonRetryable(message, type);
}
