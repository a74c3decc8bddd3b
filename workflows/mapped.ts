/**
 * Dynamic task mapping on Temporal: the engine splits a mapped task's instances into batches
 * (src/mapping.ts), each a child workflow that runs its instances as activities, at most its
 * share of `maxActive` at once, each retried on its own by its retry policy. A batch that ran
 * before under the same workflow id (the run was run again) reuses the successes it recorded
 * for the same args, so a rerun repeats only the instances that failed. `mappedTask` is the
 * engine's step for such a task: its items from the list, the batches, its outcome. Deterministic.
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
  argsHash,
  batchShares,
  DEFAULT_MAX_ACTIVE,
  MAP_ARGS_MAX_BYTES,
  MAP_INPUT_MAX_BYTES,
  MAPPED_OUTPUT_MAX_BYTES,
  MAX_MAP_LENGTH,
  instanceId,
  MAP_BATCH_SIZE,
  MAP_OUTPUT_MAX_BYTES,
  mappedBatchWorkflowId,
  type MappedBatchInput,
  type MappedBatchResult,
  type MappedInstance,
  type MappedItem,
} from '../src/mapping';
import type { UserTask } from '../src/operators/task/definition';
import { userActivityType, type CompiledDag } from '../src/sdk/compile';
import { resolveMarker } from '../src/sdk/templates';
import type { RunContext } from '../src/sdk/types';
import type { DagRunContext } from './dag';
import type { ResolvedOptions } from './operator-steps';
import { rootMessage } from './task-table';
import { bookkeeping, DATA_TASK_HEARTBEAT_TIMEOUT } from './task-options';

export const MAPPED_BATCH_WORKFLOW = 'mappedTaskBatch';

/** One batch of a mapped task's instances. */
export async function mappedTaskBatch(input: MappedBatchInput): Promise<MappedBatchResult> {
  // The outcome of the last run of this batch (a rerun of the DAG run): its successes for the same args stand.
  const previous = input.previousRunId
    ? await bookkeeping.previousMappedBatch.executeWithOptions({ summary: `${input.taskId}: what the batch's last run finished` }, [
        { workflowId: workflowInfo().workflowId, runId: input.previousRunId },
      ])
    : undefined;
  const rerun = new Set(input.rerun ?? []);
  const done = new Map((previous?.instances ?? []).filter((i) => i.state === 'success' && !rerun.has(i.index)).map((i) => [i.index, i]));
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
  /**
   * What a batch keeps of its last run: its successes when the task failed there (a rerun), none
   * (a cleared task), or all but the instances named (a clear naming instances).
   */
  reuse?: 'if-failed' | 'none' | { except: number[] };
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
  const reuse = run.reuse ?? 'if-failed';
  const { runs: previous } =
    reuse === 'none'
      ? { runs: {} as Record<string, string> }
      : await bookkeeping.mappedBatchRuns.executeWithOptions({ summary: `${run.batch.taskId}: batches of an earlier run of this run` }, [
          { workflowIds: ids, ...(typeof reuse === 'object' ? { always: true } : {}) },
        ]);
  const except = typeof reuse === 'object' ? new Set(reuse.except) : undefined;
  const results: MappedBatchResult[] = new Array(batches.length);
  let next = 0;
  const lane = async (share: number): Promise<void> => {
    for (let k = next++; k < batches.length; k = next++) {
      const child = await startChild<typeof mappedTaskBatch>(MAPPED_BATCH_WORKFLOW, {
        workflowId: ids[k],
        taskQueue: run.taskQueue,
        args: [
          {
            ...run.batch,
            items: batches[k],
            maxActive: share,
            ...(previous[ids[k]] ? { previousRunId: previous[ids[k]] } : {}),
            ...(except ? { rerun: batches[k].filter((item) => except.has(item.index)).map((item) => item.index) } : {}),
          },
        ],
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

/**
 * A mapped task (own.fn.expand): one instance per item of its list, in batch workflows, at most
 * maxActive at once, each retried on its own; its output is the instances' outputs in order. An
 * empty list skips it, as in Airflow; a failed instance fails it, naming the first few.
 */
export async function mappedTask(
  dag: CompiledDag,
  taskId: string,
  definition: UserTask,
  run: DagRunContext,
  ctx: RunContext,
  options: ResolvedOptions,
): Promise<unknown> {
  const map = definition.map!;
  const list = resolveMarker(map.over, ctx);
  if (!Array.isArray(list))
    throw ApplicationFailure.nonRetryable(`${taskId}: expand's over must be a list, got ${list === null ? 'null' : typeof list}`, 'InvalidMapInput');
  if (list.length > MAX_MAP_LENGTH)
    throw ApplicationFailure.nonRetryable(
      `${taskId}: expand's over has ${list.length} items, more than the ${MAX_MAP_LENGTH} a task is mapped over`,
      'InvalidMapInput',
    );
  if (!list.length) return { skipped: 'mapped over an empty list' };
  const items: MappedItem[] = list.map((item, index) => {
    const args = definition.mapArgs ? definition.mapArgs(item, index, ctx) : item;
    const size = JSON.stringify(args ?? null).length;
    if (size > MAP_ARGS_MAX_BYTES)
      throw ApplicationFailure.nonRetryable(
        `${taskId}[${index}]: its args are ${size} bytes, more than the ${MAP_ARGS_MAX_BYTES} an instance takes; pass a reference`,
        'InvalidMapInput',
      );
    const label = definition.mapLabel?.(item, index, ctx);
    return { index, ...(label !== undefined ? { label: String(label).slice(0, 200) } : {}), args, hash: argsHash(args) };
  });
  const inputBytes = JSON.stringify(items).length;
  if (inputBytes > MAP_INPUT_MAX_BYTES)
    throw ApplicationFailure.nonRetryable(
      `${taskId}: its ${items.length} instances' args and labels are ${inputBytes} bytes, more than the ${MAP_INPUT_MAX_BYTES} a run's history holds of them; pass references`,
      'InvalidMapInput',
    );
  const { instances, batches } = await runMapped({
    runWorkflowId: workflowInfo().workflowId,
    taskQueue: workflowInfo().taskQueue,
    maxActive: map.maxActive ?? DEFAULT_MAX_ACTIVE,
    batch: {
      dagId: dag.dagId,
      taskId,
      activityType: userActivityType(dag.dagId, definition.activity),
      base: { dagId: dag.dagId, ds: run.ds, ...(run.key !== run.ds ? { ts: run.key } : {}), attempt: 1 },
      attempts: options.attempts,
      retryDelayMs: options.delayMs,
      backoff: options.backoff,
      maxRetryDelayMs: options.maxDelayMs,
      timeout: String(options.timeout),
      // As the engine's own tries: an instance on a worker that died is tried again after this.
      heartbeatTimeout: run.settings.heartbeatTimeout ?? DATA_TASK_HEARTBEAT_TIMEOUT,
    },
    items,
    reuse: reuseFor(run, taskId),
  });
  const failed = instances.filter((i) => i.state === 'failed');
  run.tasks.mapped(taskId, {
    total: instances.length,
    success: instances.length - failed.length,
    failed: failed.length,
    reused: instances.filter((i) => i.reused).length,
    batches,
  });
  if (failed.length) {
    const named = failed
      .slice(0, 3)
      .map((i) => `${taskId}[${i.index}]${i.label ? ` (${i.label})` : ''}: ${i.error}`)
      .join('; ');
    throw ApplicationFailure.nonRetryable(
      `${failed.length} of ${instances.length} instances failed: ${named}${failed.length > 3 ? '; ...' : ''}`,
      'MappedInstancesFailed',
    );
  }
  const outputs = instances.map((i) => i.output ?? null);
  const size = JSON.stringify(outputs).length;
  if (size > MAPPED_OUTPUT_MAX_BYTES)
    throw ApplicationFailure.nonRetryable(
      `${taskId}: its ${instances.length} instances' outputs are ${size} bytes, more than the ${MAPPED_OUTPUT_MAX_BYTES} a mapped task hands on; return references and counts`,
      'XComTooLarge',
    );
  return outputs;
}

/** What a mapped task's batches keep of their last run: a cleared run says, for the tasks it clears. */
function reuseFor(run: DagRunContext, taskId: string): MappedRun['reuse'] {
  const clear = run.clear;
  if (!clear?.tasks.includes(taskId)) return 'if-failed';
  const chosen = clear.instances?.[taskId];
  if (chosen === undefined) return 'none';
  return chosen === 'failed' ? 'if-failed' : { except: chosen };
}
