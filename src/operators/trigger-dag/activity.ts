/**
 * The `triggerDag` operator's activity: starts the DAG's run for its date with the workflow id
 * `<dag_id>-<ds>` (`<dag_id>-<ts>` for a sub-daily DAG, its `ds` setting then a ts), joining the run of that id when one is in flight (a retry of this task, or
 * the DAG's own schedule, never doubles it), and with `wait` heartbeats until it ends. A DAG
 * this worker does not serve, a bad date and a failed run fail the task for good, naming them.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { DagDefinition } from '../../dags';
import { whileHeartbeating } from '../../data/heartbeat';
import { intervalForKey, runKeyOf } from '../../timetable';
import { triggerRun } from '../../runs';
import type { OperatorInput } from '../common';
import type { TriggerDagOutput } from './definition';

export interface TriggerDagOperatorInput extends OperatorInput {
  dag: string;
  /** The logical date of the run it starts, rendered. */
  runDs: string;
  conf: Record<string, unknown>;
  wait: boolean;
}

export function createTriggerDagOperator(client: Client, dags: ReadonlyMap<string, DagDefinition>, config: Pick<Config, 'webUiUrl' | 'temporal'>) {
  return async function operatorTriggerDag(input: TriggerDagOperatorInput): Promise<TriggerDagOutput> {
    const dag = dags.get(input.dag);
    if (!dag)
      throw ApplicationFailure.nonRetryable(
        `${input.taskId}: no DAG ${JSON.stringify(input.dag)} on this worker; it serves ${[...dags.keys()].join(', ') || 'none'}`,
        'UnknownDag',
      );
    let key: string;
    try {
      key = runKeyOf(dag, intervalForKey(dag, input.runDs));
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`${input.taskId}: ${(err as Error).message}`, 'InvalidLogicalDate');
    }
    // Its own run would be joined: waited for, it would wait for itself.
    if (dag.dagId === input.dagId && key === (input.ts ?? input.ds))
      throw ApplicationFailure.nonRetryable(`${input.taskId}: a run of ${dag.dagId} cannot trigger its own date (${key}); give another ds`, 'TriggersItself');
    const run = await triggerRun(client, config, dag, key, input.conf);
    const started = { dagId: dag.dagId, ds: key, workflowId: run.workflowId, runId: run.runId };
    if (!input.wait) return { ...started, state: 'started' };
    try {
      await whileHeartbeating(client.workflow.getHandle(run.workflowId, run.runId).result(), () => ({ waitingFor: run.workflowId }));
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        throw ApplicationFailure.nonRetryable(
          `${input.taskId}: ${dag.dagId}'s run ${run.workflowId} failed: ${err.cause?.message ?? err.message}`,
          'TriggeredRunFailed',
        );
      throw err;
    }
    return { ...started, state: 'success' };
  };
}
