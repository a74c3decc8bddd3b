/**
 * The `waitForDag` operator's activity: one check of the run waited for (ExternalTaskSensor's
 * poke), by its workflow id. Its success (or its task's) is found; not started or still running
 * is "not yet", a normal answer; a task that was skipped skips the waiter; a run that failed,
 * was cancelled, terminated or timed out, or a task that failed or whose upstream failed, fails
 * it for good, naming the run. A DAG this worker does not serve, a bad date and the waiter's
 * own run are refused before anything is read.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SensorCheckResult } from '../../../activities/sensors';
import { Queries, toRunStatus, type RunStatus, type TaskRecord } from '../../contracts';
import type { DagDefinition } from '../../dags';
import type { DagRunResult } from '../../runs';
import type { OperatorInput } from '../common';
import { intervalForKey, isSubDaily, runKeyOf } from '../../timetable';
import { waitedLogicalDate, waitedRunId } from './run';

export interface WaitForDagCheckInput extends OperatorInput {
  dag: string;
  /** The logical date (or time) of the run waited for, rendered and shifted. */
  runDs: string;
  /** This run's ts, shifted, when no ds was given: what names the run of a sub-daily DAG waited for. */
  runTs?: string;
  /** One task of that run, instead of the whole run. */
  task?: string;
}

/** How a run that did not succeed ended, in words. */
const ENDED: Partial<Record<RunStatus, string>> = { FAILED: 'failed', CANCELLED: 'was cancelled', TERMINATED: 'was terminated', TIMED_OUT: 'timed out' };

export function createWaitForDagOperator(client: Client, dags: ReadonlyMap<string, DagDefinition>) {
  return async function operatorWaitForDag(input: WaitForDagCheckInput): Promise<SensorCheckResult> {
    const dag = dags.get(input.dag);
    if (!dag)
      throw ApplicationFailure.nonRetryable(
        `${input.taskId}: no DAG ${JSON.stringify(input.dag)} on this worker; it serves ${[...dags.keys()].join(', ') || 'none'}`,
        'UnknownDag',
      );
    let ds: string;
    try {
      // The run's key as the waited DAG names its runs: a date, or a sub-daily DAG's ts.
      const asked = isSubDaily(dag) && input.runTs !== undefined ? input.runTs : input.runDs;
      ds = runKeyOf(dag, intervalForKey(dag, waitedLogicalDate(asked)));
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`${input.taskId}: ${(err as Error).message}`, 'InvalidLogicalDate');
    }
    if (dag.dagId === input.dagId && ds === (input.ts ?? input.ds))
      throw ApplicationFailure.nonRetryable(
        `${input.taskId}: a run of ${dag.dagId} cannot wait for its own run (${ds}); give another ds or a shift, or make the task upstream`,
        'WaitsForItself',
      );

    const workflowId = waitedRunId(dag.dagId, ds);
    const run = `${dag.dagId}'s run ${workflowId}`;
    const handle = client.workflow.getHandle(workflowId);
    let status: RunStatus;
    try {
      status = toRunStatus((await handle.describe()).status.name);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { found: false, reason: `${run} has not started` };
      throw err;
    }
    const ended = ENDED[status];
    /** Why the run did not succeed: its own failure's words. */
    const failure = async () => {
      const cause = await handle.result().then(
        () => undefined,
        (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : undefined),
      );
      return `${run} ${ended}${cause ? `: ${cause}` : ''}`;
    };

    if (input.task === undefined) {
      // A run that ended success_with_skips succeeded: Airflow's DAG runs have no skipped state.
      if (status === 'COMPLETED') return { found: true, detail: workflowId };
      if (ended) throw ApplicationFailure.nonRetryable(`${input.taskId}: ${await failure()}`, 'WaitedRunFailed');
      return { found: false, reason: `${run} is running` };
    }

    const task = `${dag.dagId}'s task ${input.task}`;
    let tasks: TaskRecord[];
    if (status === 'COMPLETED') tasks = ((await handle.result()) as DagRunResult).tasks;
    else if (ended) tasks = await handle.query<TaskRecord[]>(Queries.tasks);
    else {
      try {
        tasks = await handle.query<TaskRecord[]>(Queries.tasks);
      } catch (err) {
        // A run just started answers once its first workflow task has run.
        return { found: false, reason: `${run} is running; its task table is not readable yet (${(err as Error).message})` };
      }
    }
    const record = tasks.find((t) => t.taskId === input.task);
    if (!record)
      throw ApplicationFailure.nonRetryable(
        `${input.taskId}: ${run} has no task ${input.task} (its tasks: ${tasks.map((t) => t.taskId).join(', ')})`,
        'UnknownTask',
      );
    if (record.state === 'success') return { found: true, detail: workflowId };
    // Airflow's skipped_states: the waiter is skipped too, and what depends on it follows its trigger rules.
    if (record.state === 'skipped') return { found: false, skip: `${task} was skipped in ${workflowId}` };
    if (record.state === 'failed' || record.state === 'upstream_failed')
      throw ApplicationFailure.nonRetryable(
        `${input.taskId}: ${task} ${record.state === 'failed' ? 'failed' : 'is upstream_failed'} in ${workflowId}${record.error ? `: ${record.error}` : ''}`,
        'WaitedTaskFailed',
      );
    // Not done yet; in a run that ended, it never will be.
    if (ended) throw ApplicationFailure.nonRetryable(`${input.taskId}: ${await failure()}, with ${input.task} ${record.state}`, 'WaitedRunFailed');
    return { found: false, reason: `${task} is ${record.state} in ${workflowId}` };
  };
}
