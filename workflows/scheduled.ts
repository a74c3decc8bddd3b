/**
 * What a DAG's Temporal Schedule starts at each fire time: it derives the logical date from
 * the scheduled time (never the clock), and starts the DAG run `<dag_id>-<ds>` (`<dag_id>-<ts>`
 * for a sub-daily DAG) once, so a scheduled, a manual and a backfilled run of one date are the same run.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, log, ParentClosePolicy, startChild, workflowInfo, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { SearchAttributeKeys, type ScheduledDagRunInput, type ScheduledDagRunResult } from '../src/contracts';
import { dagRunWorkflowId, runInputFor } from '../src/dags';
import { canonicalFire, isStrayMatch, nextFire } from '../src/cron';
import { intervalForFireTime, runKeyOf } from '../src/timetable';

export async function scheduledDagRun(input: ScheduledDagRunInput): Promise<ScheduledDagRunResult> {
  const fireTime = workflowInfo().typedSearchAttributes.get(SearchAttributeKeys.scheduledStartTime);
  if (!fireTime) throw ApplicationFailure.nonRetryable(`${input.dagId}: scheduledDagRun is started by the DAG's schedule only`, 'NotScheduled');
  // Temporal's calendar matching can misplace a day next to a clock change (a Saturday time
  // matched on the Sunday after a midnight gap): such a fire stands for no logical date.
  if (isStrayMatch(input.schedule, input.timezone, fireTime.getTime())) {
    log.warn('the schedule fired at a time its cron does not fire at; no run started', {
      dagId: input.dagId,
      fireTime: fireTime.toISOString(),
      schedule: input.schedule,
      timezone: input.timezone,
    });
    return { ds: '', outcome: 'not_a_fire_time' };
  }
  const interval = intervalForFireTime(input, fireTime);
  const { ds } = interval;
  const key = runKeyOf(input, interval);
  if (ds < input.startDate || (input.endDate && ds > input.endDate)) return { ds, outcome: 'outside_start_end' };
  // catchup=False, as Airflow: after an outage the schedule starts every missed fire (its
  // catchup window is long), and each one whose next fire has come already stands down, so
  // only the latest missed interval runs.
  if (input.catchup === false) {
    const next = nextFire(input.schedule, input.timezone, canonicalFire(fireTime.getTime(), input.timezone, input.schedule));
    if (next <= workflowInfo().startTime.getTime()) {
      log.info('catchup=False: a later interval has fired since this one; only the latest missed interval runs', {
        dagId: input.dagId,
        ds,
        fireTime: fireTime.toISOString(),
      });
      return { ds, outcome: 'superseded' };
    }
  }
  const workflowId = dagRunWorkflowId(input.dagId, key);
  try {
    await startChild(input.workflowType, {
      workflowId,
      args: [{ ...input.args, ...runInputFor(key) }],
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
