/**
 * Backfills from the client side: plan the dates, start (or re-attach to) the durable
 * backfill workflow, and follow its progress.
 */
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  backfillRuns,
  backfillWorkflowId,
  Queries,
  TASK_QUEUE,
  toRunStatus,
  WorkflowTypes,
  type BackfillInput,
  type BackfillProgress,
  type Operator,
  type RerunPolicy,
  type RunStatus,
} from './contracts';
import { dagRunWorkflowId, type DagDefinition } from './dags';
import { formatTs, isTsKey, parseDs, parseTs } from './logical-date';
import { isSubDaily, keysBetween, startOfDay } from './timetable';

/** A date (its first instant in the DAG's zone) or a timestamp, for comparing a range's bounds. */
const dateOrInstant = (dag: DagDefinition, value: string) => (isTsKey(value) ? parseTs(value) : startOfDay(value, dag.timezone).getTime());

export interface BackfillRequest {
  from: string;
  to: string;
  maxActive: number;
  rerun: RerunPolicy;
  reverse: boolean;
}

export class BackfillInputError extends Error {}

/**
 * The logical dates a backfill covers (the ts of each interval for a sub-daily DAG, whose range
 * may be given as dates or timestamps), in the order it runs them; bad input is named before
 * anything starts.
 */
export function planBackfill(dag: DagDefinition, request: BackfillRequest): string[] {
  const subDaily = isSubDaily(dag);
  const bound = (value: string, field: string) => {
    if (!isTsKey(value)) return parseDs(value, field);
    if (!subDaily) throw new BackfillInputError(`${field} ${JSON.stringify(value)}: ${dag.dagId} runs at most once a day; give a date YYYY-MM-DD`);
    return formatTs(parseTs(value, field));
  };
  const from = bound(request.from, '--from');
  const to = bound(request.to, '--to');
  if (dateOrInstant(dag, from) > dateOrInstant(dag, to)) throw new BackfillInputError(`--from ${from} is after --to ${to}`);
  if (!Number.isInteger(request.maxActive) || request.maxActive < 1 || request.maxActive > 100) {
    throw new BackfillInputError(`--max-active must be a whole number from 1 to 100, got ${request.maxActive}`);
  }
  if (!['none', 'failed', 'all'].includes(request.rerun))
    throw new BackfillInputError(`--rerun must be none, failed or all, got ${JSON.stringify(request.rerun)}`);
  const dates = keysBetween(dag, from, to);
  if (dates.length > 20_000)
    throw new BackfillInputError(
      `${dates.length > 100_000 ? 'more than 100000' : dates.length} ${subDaily ? 'intervals' : 'logical dates'} is more than one backfill runs (20000); split the range`,
    );
  return request.reverse ? dates.reverse() : dates;
}

/** What a dry run shows: each date, its current run state, and whether the backfill would run it. */
export async function dryRun(client: Client, dag: DagDefinition, dates: string[], rerun: RerunPolicy) {
  const rows: Array<{ ds: string; status: RunStatus; action: 'run' | 'skip' }> = [];
  for (const ds of dates) {
    let status: RunStatus = 'NOT_FOUND';
    try {
      status = toRunStatus((await client.workflow.getHandle(dagRunWorkflowId(dag.dagId, ds)).describe()).status.name);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    rows.push({ ds, status, action: backfillRuns(status, rerun) ? 'run' : 'skip' });
  }
  return rows;
}

/** Starts the backfill workflow, or attaches to the one already running for the same range. */
export async function startBackfill(
  client: Client,
  dag: DagDefinition,
  request: BackfillRequest,
  dates: string[],
  datesPerRun?: number,
  /** Who asked and why (the console's backfill button), kept in the backfill's memo. */
  operator?: Operator,
) {
  const input: BackfillInput = {
    dagId: dag.dagId,
    workflowType: dag.workflowType,
    dates,
    maxActive: request.maxActive,
    rerun: request.rerun,
    ...(dag.runArgs ? { args: dag.runArgs } : {}),
    ...(datesPerRun ? { datesPerRun } : {}),
  };
  return client.workflow.start(WorkflowTypes.dagBackfill, {
    taskQueue: dag.taskQueue ?? TASK_QUEUE,
    workflowId: backfillWorkflowId(dag.dagId, request.from, request.to),
    args: [input],
    // A killed CLI runs the same command again and follows the backfill it had started.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    ...(operator ? { memo: { by: operator.by, ...(operator.reason ? { reason: operator.reason } : {}) } } : {}),
  });
}

export async function backfillProgress(client: Client, workflowId: string): Promise<BackfillProgress | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).query<BackfillProgress>(Queries.progress);
  } catch {
    return undefined;
  }
}

/** `[########------------]  120/365  ok 118  failed 1  skipped 1  running 4` */
export function progressLine(p: BackfillProgress, width = 30): string {
  const filled = p.total ? Math.round((p.done / p.total) * width) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(p.done).padStart(String(p.total).length)}/${p.total}  ok ${p.succeeded}  failed ${p.failed}  skipped ${p.skipped}  running ${p.running.length}`;
}
