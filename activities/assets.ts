/**
 * Assets, as the worker announces them: a task's outlets, updated for its run's partition, sent
 * to each asset's record and to the watcher of each DAG of the project they schedule
 * (src/assets.ts). Retried safely: each update's id is its run and task, so the record and the
 * watchers count an update announced twice once.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { announceAssetUpdate } from '../src/assets';
import type { AnnounceAssetsInput, AnnounceAssetsResult, AssetUpdate } from '../src/contracts';
import type { DagDefinition } from '../src/dags';
import { assetNameProblem } from '../src/sdk/assets';

export interface AssetDeps {
  client: Client;
  /** The DAGs the worker serves: the consumers an update may start. */
  dags: readonly DagDefinition[];
}

export function createAssetActivities({ client, dags }: AssetDeps) {
  /** Announces an update of each of a successful task's outlets for the run's partition. */
  async function announceAssetUpdates(input: AnnounceAssetsInput): Promise<AnnounceAssetsResult> {
    const { workflowExecution, taskQueue } = Context.current().info;
    if (!workflowExecution) throw ApplicationFailure.nonRetryable(`${input.dagId}.${input.taskId}: outlets are announced by a DAG run`, 'NotInARun');
    const { workflowId, runId } = workflowExecution;
    const problems = input.assets.flatMap((asset) => assetNameProblem(asset) ?? []);
    if (problems.length) throw ApplicationFailure.nonRetryable(`${input.dagId}.${input.taskId}: outlets: ${problems.join('; ')}`, 'InvalidAsset');
    const announced: AnnounceAssetsResult['announced'] = [];
    for (const asset of input.assets) {
      const update: AssetUpdate = {
        id: `${workflowId}/${runId}/${input.taskId}/${asset}`,
        asset,
        partition: input.partition,
        at: new Date().toISOString(),
        source: { kind: 'task', dagId: input.dagId, taskId: input.taskId, workflowId, runId },
      };
      announced.push(await announceAssetUpdate(client, dags, update, taskQueue));
    }
    return { announced };
  }
  return { announceAssetUpdates };
}
