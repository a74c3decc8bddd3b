/**
 * Dynamic task mapping on Temporal: the engine splits a mapped task's instances into batches
 * (src/mapping.ts), each a child workflow that runs its instances as activities, at most its
 * share of `maxActive` at once, each retried on its own by its retry policy. A batch that ran
 * before under the same workflow id (the run was run again) reuses the successes it recorded
 * for the same args, so a rerun repeats only the instances that failed. Deterministic.
 */
import type { Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  batchShares,
  instanceId,
  MAP_BATCH_SIZE,
  MAP_OUTPUT_MAX_BYTES,
  mappedBatchWorkflowId,
  type MappedBatchInput,
  type MappedBatchResult,
  type MappedInstance,
  type MappedItem,
} from '../src/mapping';
import { rootMessage } from './task-table';
import { bookkeeping } from './task-options';

export const MAPPED_BATCH_WORKFLOW = 'mappedTaskBatch';

/** One batch of a mapped task's instances. */
export async function mappedTaskBatch(input: MappedBatchInput): Promise<MappedBatchResult> {
  // The outcome of the last run of this batch (a rerun of the DAG run): its successes for the same args stand.
  const previous = input.previousRunId
    ? await bookkeeping.previousMappedBatch.executeWithOptions({ summary: `${input.taskId}: what the batch's last run finished` }, [
        { workflowId: workflowInfo().workflowId, runId: input.previousRunId },
      ])
    : undefined;
  const done = new Map((previous?.instances ?? []).filter((i) => i.state === 'success').map((i) => [i.index, i]));
  const options: ActivityOptions = {
    startToCloseTimeout: input.timeout as Duration,
    heartbeatTimeout: input.heartbeatTimeout as Duration,
    retry: {
      maximumAttempts: input.attempts,
      initialInterval: Math.max(1, input.retryDelayMs),
      backoffCoefficient: input.backoff ? 2 : 1,
      maximumInterval: Math.max(1, input.backoff ? input.maxRetryDelayMs : input.retryDelayMs),
    },
  };
  const activity = proxyActivities<Record<string, (args: unknown) => Promise<unknown>>>(options)[input.activityType];
  const instances: MappedInstance[] = [];
  const runOne = async (item: MappedItem): Promise<void> => {
    const reused = done.get(item.index);
    if (reused && reused.hash === item.hash) {
      instances.push({ ...reused, reused: true });
      return;
    }
    const startedAt = new Date();
    const label = item.label === undefined ? {} : { label: item.label };
    try {
      const output = await activity.executeWithOptions({ summary: `${instanceId(input.taskId, item.index)}${item.label ? ` ${item.label}` : ''}` }, [
        { ...input.base, taskId: instanceId(input.taskId, item.index), mapIndex: item.index, ...label, args: item.args },
      ]);
      const size = JSON.stringify(output ?? null).length;
      if (size > MAP_OUTPUT_MAX_BYTES) {
        instances.push({
          index: item.index,
          ...label,
          state: 'failed',
          error: `its output is ${size} bytes, more than the ${MAP_OUTPUT_MAX_BYTES} a mapped instance hands on; return a reference (a path, a table) and counts`,
          hash: item.hash,
        });
        return;
      }
      instances.push({
        index: item.index,
        ...label,
        state: 'success',
        output: output ?? null,
        hash: item.hash,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
      });
    } catch (err) {
      if (isCancellation(err)) throw err; // the DAG run is being cancelled: so is the batch
      instances.push({
        index: item.index,
        ...label,
        state: 'failed',
        error: rootMessage(err),
        hash: item.hash,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
      });
    }
  };
  // maxActive lanes, each taking the next instance when its last one ended: never more at once.
  let cursor = 0;
  const lane = async () => {
    for (let k = cursor++; k < input.items.length; k = cursor++) await runOne(input.items[k]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.maxActive, input.items.length)) }, lane));
  instances.sort((a, b) => a.index - b.index);
  return { instances };
}

/** What the engine asks of a mapped task's run. */
export interface MappedRun {
  /** The DAG run's workflow id: the batches' ids start with it. */
  runWorkflowId: string;
  taskQueue: string;
  maxActive: number;
  batch: Omit<MappedBatchInput, 'items' | 'maxActive'>;
  items: MappedItem[];
}

/**
 * Runs every instance, batch after batch, at most `maxActive` at once in all; returns each
 * instance's outcome in index order and the batches' workflow ids.
 */
export async function runMapped(run: MappedRun): Promise<{ instances: MappedInstance[]; batches: string[] }> {
  const batches: MappedItem[][] = [];
  for (let i = 0; i < run.items.length; i += MAP_BATCH_SIZE) batches.push(run.items.slice(i, i + MAP_BATCH_SIZE));
  const ids = batches.map((_, k) => mappedBatchWorkflowId(run.runWorkflowId, run.batch.taskId, k));
  const free = batchShares(run.maxActive, batches.length);
  const { runs: previous } = await bookkeeping.mappedBatchRuns.executeWithOptions({ summary: `${run.batch.taskId}: batches of an earlier run of this run` }, [
    { workflowIds: ids },
  ]);
  const results: MappedBatchResult[] = new Array(batches.length);
  let next = 0;
  const lane = async (share: number): Promise<void> => {
    for (let k = next++; k < batches.length; k = next++) {
      const child = await startChild<typeof mappedTaskBatch>(MAPPED_BATCH_WORKFLOW, {
        workflowId: ids[k],
        taskQueue: run.taskQueue,
        args: [{ ...run.batch, items: batches[k], maxActive: share, ...(previous[ids[k]] ? { previousRunId: previous[ids[k]] } : {}) }],
        // A rerun of the DAG run runs its batches again under the same ids (and reads their last outcome).
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        memo: { mappedTask: run.batch.taskId, batch: k, items: batches[k].length },
      });
      results[k] = await child.result();
    }
  };
  await Promise.all(free.map(lane));
  const instances = results.flatMap((r) => r.instances);
  if (instances.length !== run.items.length)
    throw ApplicationFailure.nonRetryable(`${run.batch.taskId}: ${instances.length} of ${run.items.length} instances reported`, 'MappedTaskIncomplete');
  return { instances, batches: ids };
}
