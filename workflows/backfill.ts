/**
 * `baton backfill`: each logical date of a range runs once (`<dag_id>-<ds>`; each interval of a
 * sub-daily DAG, `<dag_id>-<ts>`), at most
 * `maxActive` at a time, with Airflow 3's reprocess behaviour (`rerun`: none, failed, all).
 * The backfill is itself a workflow, so a killed CLI or worker loses nothing: it resumes where
 * it was. It continues as new every few hundred dates to keep each history small.
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  ParentClosePolicy,
  setHandler,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { backfillRuns, Queries, type BackfillInput, type BackfillMemo, type BackfillProgress } from '../src/contracts';
import { dagRunWorkflowId, runInputFor } from '../src/dags';
import { bookkeeping } from './task-options';

export const progressQuery = defineQuery<BackfillProgress>(Queries.progress);

/** Dates decided per history before continuing as new. */
const DATES_PER_RUN = 250;

type DagRunWorkflow = (input: { ds: string } | { ts: string }) => Promise<unknown>;

export async function dagBackfill(input: BackfillInput): Promise<BackfillProgress> {
  const progress: BackfillProgress = input.progress ?? {
    total: input.dates.length,
    done: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    running: [],
    failedDates: [],
    startedAt: Date.now(),
  };
  setHandler(progressQuery, () => progress);
  const inFlight = new Set<Promise<void>>();
  let cursor = input.cursor ?? 0;
  const stopAt = Math.min(input.dates.length, cursor + (input.datesPerRun ?? DATES_PER_RUN));

  const settle = (ds: string, outcome: 'succeeded' | 'failed' | 'skipped') => {
    progress.done++;
    progress[outcome]++;
    if (outcome === 'failed') progress.failedDates.push(ds);
  };

  for (; cursor < stopAt; cursor++) {
    await condition(() => inFlight.size < input.maxActive);
    const ds = input.dates[cursor];
    const workflowId = dagRunWorkflowId(input.dagId, ds);
    const { statuses } = await bookkeeping.runStatuses({ workflowIds: [workflowId] });
    if (!backfillRuns(statuses[workflowId], input.rerun)) {
      // A date that already ran (or runs now) is not run twice; none/failed keep what succeeded.
      settle(ds, 'skipped');
      continue;
    }
    let child: ChildWorkflowHandle<DagRunWorkflow>;
    try {
      child = await startChild<DagRunWorkflow>(input.workflowType, {
        workflowId,
        args: [{ ...input.args, ...runInputFor(ds) }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        memo: { backfill: { workflowId: workflowInfo().workflowId, maxActive: input.maxActive } } satisfies BackfillMemo,
      });
    } catch {
      settle(ds, 'skipped'); // started meanwhile by its schedule or a user: that run counts
      continue;
    }
    progress.running.push(ds);
    const done: Promise<void> = child
      .result()
      .then(
        () => settle(ds, 'succeeded'),
        () => settle(ds, 'failed'),
      )
      .finally(() => {
        progress.running.splice(progress.running.indexOf(ds), 1);
        inFlight.delete(done);
      });
    inFlight.add(done);
  }
  await condition(() => inFlight.size === 0);
  if (cursor < input.dates.length) {
    await continueAsNew<typeof dagBackfill>({ ...input, cursor, progress });
  }
  progress.finishedAt = Date.now();
  return progress;
}
