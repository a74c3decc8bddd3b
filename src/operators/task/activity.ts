/**
 * The `task` operator's activity, a DAG's own task on the worker: its function called with its
 * args and a TaskContext (its run, the worker's connections, a logger naming the task, the data
 * directory, heartbeats and the cancellation signal), its output refused before the history when
 * it is too large for XCom.
 */
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MetricNames } from '../../contracts';
import { xcomOverflow } from '../../sdk/compile';
import type { DbtOutcome, TaskContext } from '../../task/context';
import { dataDirResolver } from '../../data/data-dir';
import { dagDbtProject, dbtFailureDetail, invokeDbt } from '../../../activities/dbt';
import type { WorkerClients } from '../../../activities/operators/contracts';
import type { OperatorInput } from '../common';

export interface UserTaskInput extends OperatorInput {
  args: unknown;
}

export type OwnTaskFunction = (args: unknown, context: TaskContext) => unknown;

/** dbt in the DAG's own project (a folder beside its file), on the worker's target, with Baton's profile unless the project has one. */
async function dbtIn(clients: WorkerClients, dagId: string, folder: string | undefined, args: string[], project: string): Promise<DbtOutcome> {
  const { dbt } = clients.config;
  const { projectDir, profilesDir } = await dagDbtProject(clients.config, new Map(folder ? [[dagId, folder]] : []), dagId, project, dagId);
  const result = await invokeDbt(clients.config, { args: [...args, '--target', dbt.target], projectDir, profilesDir });
  return { exitCode: result.exitCode, target: dbt.target, nodes: result.nodes, failure: result.exitCode === 0 ? '' : dbtFailureDetail(result) };
}

/** The context of one call of a DAG's own task; `folder` is the DAG's folder, where its dbt project is. */
export function ownTaskContext(input: UserTaskInput, clients: WorkerClients, folder?: string): TaskContext {
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
    // The run's workflow and run ids on every line, so a task's lines are found from the Web UI.
    logger: clients.logger.child({
      dagId,
      taskId,
      ds,
      ...(activity?.info.workflowExecution ? { workflowId: activity.info.workflowExecution.workflowId, runId: activity.info.workflowExecution.runId } : {}),
    }),
    dataDir: path.resolve(clients.config.dataDir),
    dataPath: dataDirResolver(clients.config.dataDir),
    heartbeat: (details) => activity?.heartbeat(details),
    signal: activity?.cancellationSignal ?? new AbortController().signal,
    fileSettle: clients.config.sensors.fileSettle ?? '5s',
    dbt: (args, { project }) => dbtIn(clients, dagId, folder, args, project),
    countRows: ({ loaded, rejected }) => {
      if (!activity) return;
      const tags = { dag_id: dagId };
      activity.metricMeter.createCounter(MetricNames.rowsLoaded, 'rows', 'rows a task loaded into the warehouse').add(loaded, tags);
      activity.metricMeter.createCounter(MetricNames.rowsRejected, 'rows', 'rows a task wrote to a rejects table').add(rejected, tags);
    },
  };
}

/** The activity that runs `fn` as the task `name` of its DAG. */
export function ownTaskActivity(name: string, fn: OwnTaskFunction, clients: WorkerClients | undefined, folder?: string) {
  return async (input: UserTaskInput): Promise<unknown> => {
    if (!clients) throw new Error(`${name} runs on a worker: it was loaded without the worker's clients`);
    const result = await fn(input.args, ownTaskContext(input, clients, folder));
    const overflow = xcomOverflow(result);
    if (overflow) throw ApplicationFailure.nonRetryable(`${name} returned ${overflow}`, 'XComTooLarge');
    return result ?? {};
  };
}
