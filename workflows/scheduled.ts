/**
 * What a DAG's Temporal Schedule starts at each fire time: it derives the logical date from
 * the scheduled time (never the clock), and starts the DAG run `<dag_id>-<ds>` once, so a
 * scheduled, a manual and a backfilled run of one date are the same run.
 */
import { WorkflowExecutionAlreadyStartedError, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ApplicationFailure, ParentClosePolicy, startChild, workflowInfo, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { ScheduledDagRunInput, ScheduledDagRunResult } from '../src/contracts';
import { dagRunWorkflowId } from '../src/dags';
import { intervalForFireTime } from '../src/timetable';

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export async function scheduledDagRun(input: ScheduledDagRunInput): Promise<ScheduledDagRunResult> {
  const fireTime = workflowInfo().typedSearchAttributes.get(scheduledStartTime);
  if (!fireTime) throw ApplicationFailure.nonRetryable(`${input.dagId}: scheduledDagRun is started by the DAG's schedule only`, 'NotScheduled');
  const { ds } = intervalForFireTime(input, fireTime);
  if (ds < input.startDate || (input.endDate && ds > input.endDate)) return { ds, outcome: 'outside_start_end' };
  const workflowId = dagRunWorkflowId(input.dagId, ds);
  try {
    await startChild(input.workflowType, {
      workflowId,
      args: [{ ...input.args, ds }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // A logical date runs once: a run that exists already (manual, backfilled) is not repeated.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { ds, workflowId, outcome: 'already_exists' };
    throw err;
  }
  return { ds, workflowId, outcome: 'started' };
}
