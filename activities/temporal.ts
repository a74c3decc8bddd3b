/**
 * Temporal itself, as an external system: asking for a run slot (signal-with-start of the
 * DAG's slot keeper) and reading the state of other runs (depends_on_past, backfill, slot
 * leaks). The orchestration's own bookkeeping, done from activities so workflows stay pure.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isGrpcServiceError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';
import {
  poolWorkflowId,
  Queries,
  SearchAttributeKeys,
  SearchAttributeNames,
  Signals,
  slotsWorkflowId,
  toRunStatus,
  WorkflowTypes,
  type HolderLivenessInput,
  type HolderLivenessResult,
  type PoolGrant,
  type PoolHolder,
  type PoolHoldersInput,
  type PoolHoldersResult,
  type PoolSlotRequest,
  type RecordedRun,
  type RunStatus,
  type RunStatusInput,
  type RunStatusResult,
  type SlotRequest,
} from '../src/contracts';
import { parseSlotEntry, POOL_NAME } from '../src/pools';
import type { MappedBatchResult } from '../src/mapping';

/** The most of an execution's record (task table and outputs) a cleared run carries over in one payload. */
const MAX_RECORD_BYTES = 1_500_000;

/** gRPC's UNAVAILABLE (14) or DEADLINE_EXCEEDED (4), on the error or its cause: the server or the worker not reachable now. */
function unreachable(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const grpc = isGrpcServiceError(err) ? err : isGrpcServiceError(cause) ? cause : undefined;
  return grpc !== undefined && (grpc.code === 14 || grpc.code === 4);
}

/** The slot entries (`<pool>|<token>|<slots>`) a run's search attributes say it holds. */
function heldSlots(description: Pick<WorkflowExecutionDescription, 'typedSearchAttributes'>) {
  return (description.typedSearchAttributes.get(SearchAttributeKeys.slots) ?? []).map(parseSlotEntry).filter((e) => e !== undefined);
}

export interface TemporalDeps {
  client: Client;
  logger: Logger;
}

/** A poller seen longer ago than this has stopped: a live one polls again within its 60 s long poll. */
const POLLER_GONE_MS = 90_000;

export function createTemporalActivities({ client, logger }: TemporalDeps) {
  /**
   * A keeper (of a pool, or of a DAG's run slots) runs on the task queue of the worker that
   * started it. When no worker polls that queue any more (the DAG moved to another task queue,
   * or the project was renamed), every request queued there would wait forever: the DAG would
   * stop starting runs. Such a keeper is ended, and the request starts it again here; the new
   * keeper rebuilds its holders from the running runs' search attributes, and the runs still
   * waiting ask again at their next refresh. A keeper on another queue that a worker polls is
   * left alone: a pool may be shared by DAGs of several task queues.
   */
  async function adoptOrphanedKeeper(workflowId: string, taskQueue: string): Promise<void> {
    let keeper: WorkflowExecutionDescription;
    try {
      keeper = await client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
    if (keeper.status.name !== 'RUNNING' || keeper.taskQueue === taskQueue) return;
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: keeper.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const now = Date.now();
    const live = (pollers ?? []).some((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      return now - seconds * 1000 < POLLER_GONE_MS;
    });
    if (live) return;
    logger.warn({ workflowId, taskQueue: keeper.taskQueue, movedTo: taskQueue }, 'a keeper whose task queue no worker polls is started again on this worker');
    await client.workflow
      .getHandle(workflowId, keeper.runId)
      .terminate(`no worker polls its task queue ${keeper.taskQueue}; started again on ${taskQueue}`)
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  }

  /** Queues the run at its DAG's slot keeper, starting the keeper if it is not running. */
  async function requestRunSlot(request: SlotRequest): Promise<void> {
    await adoptOrphanedKeeper(slotsWorkflowId(request.dagId), Context.current().info.taskQueue);
    await client.workflow.signalWithStart(WorkflowTypes.dagRunSlots, {
      workflowId: slotsWorkflowId(request.dagId),
      // The keeper runs where this worker polls: its project's task queue.
      taskQueue: Context.current().info.taskQueue,
      args: [{ dagId: request.dagId }],
      signal: Signals.acquireSlot,
      signalArgs: [request],
    });
  }

  /** The state of the latest run of each workflow id. */
  async function runStatuses({ workflowIds }: RunStatusInput): Promise<RunStatusResult> {
    const statuses: Record<string, RunStatus> = {};
    await Promise.all(
      workflowIds.map(async (workflowId) => {
        try {
          statuses[workflowId] = toRunStatus((await client.workflow.getHandle(workflowId).describe()).status.name);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) statuses[workflowId] = 'NOT_FOUND';
          else throw err;
        }
      }),
    );
    return { statuses };
  }

  /**
   * The last run of each of a mapped task's batches, by workflow id, when it completed: a rerun
   * of the DAG run hands it to the batch's new run, whose instances that succeeded there (for
   * the same args) are not run again. Read before the new runs start, so the latest is the last.
   */
  async function mappedBatchRuns({ workflowIds, always }: { workflowIds: string[]; always?: boolean }): Promise<{ runs: Record<string, string> }> {
    const runs: Record<string, string> = {};
    let failed = 0;
    await Promise.all(
      workflowIds.map(async (workflowId) => {
        try {
          const description = await client.workflow.getHandle(workflowId).describe();
          if (toRunStatus(description.status.name) !== 'COMPLETED') return;
          runs[workflowId] = description.runId;
          const result = (await client.workflow.getHandle(workflowId, description.runId).result()) as MappedBatchResult;
          failed += result.instances.filter((i) => i.state === 'failed').length;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }),
    );
    // A mapped task that succeeded last time runs every instance again (a rerun replaces what it
    // made); one that failed keeps its instances that succeeded and runs the others. A clear
    // naming instances (`always`) keeps the others whatever the task's outcome.
    return { runs: failed || always ? runs : {} };
  }

  /**
   * What an execution of a DAG run finished (its `record` query, answered by replaying it): a
   * cleared run keeps it. An execution whose DAG no longer replays is named, with what to do.
   */
  async function recordedRun({ workflowId, runId }: { workflowId: string; runId: string }): Promise<RecordedRun> {
    let record: RecordedRun;
    try {
      record = await client.workflow.getHandle(workflowId, runId).query<RecordedRun>(Queries.record);
    } catch (err) {
      // The server or the worker not reachable now is tried again; a run that does not answer is named.
      if (unreachable(err)) throw err;
      throw ApplicationFailure.nonRetryable(
        `run ${runId} of ${workflowId} cannot be read to keep what it finished (${(err as Error).message}); run the date again whole with \`baton runs rerun\``,
        'RunNotReadable',
      );
    }
    // It becomes this activity's result in the new run's history, which takes a payload of 2 MB.
    const bytes = JSON.stringify(record).length;
    if (bytes > MAX_RECORD_BYTES)
      throw ApplicationFailure.nonRetryable(
        `run ${runId} of ${workflowId} recorded ${bytes} bytes of task table and outputs, more than the ${MAX_RECORD_BYTES} a cleared run carries over; run the date again whole with \`baton runs rerun\``,
        'RecordTooLarge',
      );
    return record;
  }

  /** What a batch's earlier run recorded of its instances. */
  async function previousMappedBatch({ workflowId, runId }: { workflowId: string; runId: string }): Promise<MappedBatchResult> {
    return (await client.workflow.getHandle(workflowId, runId).result()) as MappedBatchResult;
  }

  /**
   * Queues a run or task at a pool's keeper (starting the keeper if it is not running) and
   * returns the request's token: new on the first request, the same on each re-request.
   */
  async function requestPoolSlot(request: PoolSlotRequest): Promise<PoolGrant> {
    if (!POOL_NAME.test(request.pool)) throw new Error(`pool ${JSON.stringify(request.pool)}: not a pool name`);
    const { workflowExecution, activityId } = Context.current().info;
    const token = request.token ?? `${workflowExecution?.runId ?? request.holder.runId}.${activityId}`;
    const holder: PoolHolder = { ...request.holder, token };
    await adoptOrphanedKeeper(poolWorkflowId(request.pool), Context.current().info.taskQueue);
    await client.workflow.signalWithStart(WorkflowTypes.poolSlots, {
      workflowId: poolWorkflowId(request.pool),
      // The keeper runs where this worker polls: its project's task queue.
      taskQueue: Context.current().info.taskQueue,
      args: [{ pool: request.pool }],
      signal: Signals.acquireSlot,
      signalArgs: [{ ...request, token, holder }],
    });
    return { pool: request.pool, token };
  }

  /** The running runs holding slots of a pool, from their search attributes: a restarted keeper's memory. */
  async function poolHolders({ pool }: PoolHoldersInput): Promise<PoolHoldersResult> {
    if (!POOL_NAME.test(pool)) throw new Error(`pool ${JSON.stringify(pool)}: not a pool name`);
    const holders: PoolHolder[] = [];
    for await (const run of client.workflow.list({ query: `${SearchAttributeNames.pools} = '${pool}' AND ExecutionStatus = 'Running'` })) {
      for (const entry of heldSlots(run)) {
        if (entry.pool === pool) holders.push({ workflowId: run.workflowId, runId: run.runId, token: entry.token, slots: entry.slots, ds: '', priority: 0 });
      }
    }
    return { holders };
  }

  /**
   * Whether each holder still holds its slot: its run is running, or the run that replaced it
   * (a reset) is running and carries the slot's token. Checked by run id, never by workflow id
   * alone, so a new run of the same id does not keep a dead run's slot.
   */
  /** How long a reset run has to show the slot of the run it replaced before the slot is freed. */
  const RESET_GRACE_MS = 60_000;

  async function holderLiveness({ holders }: HolderLivenessInput): Promise<HolderLivenessResult> {
    const result: Record<string, string | null> = {};
    const describe = async (workflowId: string, runId?: string) => {
      try {
        return await client.workflow.getHandle(workflowId, runId).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    };
    await Promise.all(
      holders.map(async ({ workflowId, runId, token }) => {
        const own = await describe(workflowId, runId);
        if (own && toRunStatus(own.status.name) === 'RUNNING') {
          result[token] = runId;
          return;
        }
        const latest = await describe(workflowId);
        const running = latest !== undefined && toRunStatus(latest.status.name) === 'RUNNING';
        if (running && heldSlots(latest).some((e) => e.token === token)) {
          result[token] = latest.runId;
          return;
        }
        // A run reset from the holder (same execution chain) applies its grant again a moment after
        // it starts; until its search attributes show the slot, the slot stays the holder's. A run
        // that never takes it back (reset to before its request) loses it after the grace.
        const chain = own?.raw.workflowExecutionInfo?.firstRunId ?? runId;
        const resetOfHolder =
          running &&
          latest.runId !== runId &&
          latest.raw.workflowExecutionInfo?.firstRunId === chain &&
          Date.now() - latest.startTime.getTime() < RESET_GRACE_MS;
        result[token] = resetOfHolder ? runId : null;
      }),
    );
    return { holders: result };
  }

  return { requestRunSlot, runStatuses, requestPoolSlot, poolHolders, holderLiveness, mappedBatchRuns, previousMappedBatch, recordedRun };
}
