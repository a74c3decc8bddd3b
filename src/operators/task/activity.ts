/**
 * The `task` operator's activity, a DAG's own task on the worker: its function called with its
 * args and a TaskContext (its run, the worker's connections, a logger naming the task, the data
 * directory, heartbeats and the cancellation signal), its output refused before the history when
 * it is too large for XCom.
 */
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { dataDirResolver } from '../../../activities/data-dir';
import type { ReferenceTaskContext, WorkerClients } from '../../../activities/operators/contracts';
import { xcomOverflow } from '../../sdk/compile';
import type { TaskContext } from '../../task/context';
import type { OperatorInput } from '../activities';

export interface UserTaskInput extends OperatorInput {
  args: unknown;
}

export type OwnTaskFunction = (args: unknown, context: TaskContext) => unknown;

/** The context of one call of a DAG's own task. */
export function ownTaskContext(input: UserTaskInput, clients: WorkerClients): ReferenceTaskContext {
  let activity: Context | undefined;
  try {
    activity = Context.current();
  } catch {
    activity = undefined; // called outside an activity (a unit test)
  }
  const { dagId, taskId, ds, attempt } = input;
  return {
    dagId,
    taskId,
    ds,
    attempt,
    connection: clients.connection,
    logger: clients.logger.child({ dagId, taskId, ds }),
    dataDir: path.resolve(clients.config.dataDir),
    dataPath: dataDirResolver(clients.config.dataDir),
    heartbeat: (details) => activity?.heartbeat(details),
    signal: activity?.cancellationSignal ?? new AbortController().signal,
    activities: clients.activities,
    config: clients.config,
  };
}

/** The activity that runs `fn` as the task `name` of its DAG. */
export function ownTaskActivity(name: string, fn: OwnTaskFunction, clients: WorkerClients | undefined) {
  return async (input: UserTaskInput): Promise<unknown> => {
    if (!clients) throw new Error(`${name} runs on a worker: it was loaded without the worker's clients`);
    const result = await fn(input.args, ownTaskContext(input, clients));
    const overflow = xcomOverflow(result);
    if (overflow) throw ApplicationFailure.nonRetryable(`${name} returned ${overflow}`, 'XComTooLarge');
    return result ?? {};
  };
}
