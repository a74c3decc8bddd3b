/**
 * Temporal itself, as an external system: asking for a run slot (signal-with-start of the
 * DAG's slot keeper) and reading the state of other runs (depends_on_past, backfill, slot
 * leaks). The orchestration's own bookkeeping, done from activities so workflows stay pure.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { Signals, slotsWorkflowId, TASK_QUEUE, toRunStatus, WorkflowTypes, type RunStatus, type RunStatusInput, type RunStatusResult, type SlotRequest } from '../src/contracts';

export interface TemporalDeps {
  client: Client;
  logger: Logger;
}

export function createTemporalActivities({ client }: TemporalDeps) {
  /** Queues the run at its DAG's slot keeper, starting the keeper if it is not running. */
  async function requestRunSlot(request: SlotRequest): Promise<void> {
    await client.workflow.signalWithStart(WorkflowTypes.dagRunSlots, {
      workflowId: slotsWorkflowId(request.dagId),
      taskQueue: TASK_QUEUE,
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

  return { requestRunSlot, runStatuses };
}
