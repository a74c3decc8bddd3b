/**
 * The DAG toolkit shared by Baton's workflows: a task table with Airflow's task states,
 * branching and skips, and the life of a DAG run (logical date, labels, depends_on_past,
 * max_active_runs, failure alerts). Deterministic: no I/O, time is workflow time.
 */
import { type Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineUpdate,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  MAX_CONF_BYTES,
  Queries,
  Updates,
  type MarkRequest,
  runsPool,
  SearchAttributeKeys,
  slotsWorkflowId,
  UNSUCCESSFUL,
  type BackfillMemo,
  type NotifierEvent,
  type ClearRequest,
  type DagRunConf,
  type DagRunInput,
  type RecordedRun,
  type RunRef,
  type RunSettings,
} from '../src/contracts';
import { keptRecords, markedRecord } from '../src/clear';
import { dagRunWorkflowId, type DagDefinition } from '../src/dags';
import { releasePoolSlot, takePoolSlot } from './pools';
import type { Approvals } from './approvals';
import type { PoolGrant } from '../src/contracts';
import { parseDs, parseTs } from '../src/logical-date';
import { recordRun } from './metrics';
import { releaseRunSlot, runSlotGranted } from './signals';
import { alerts, bookkeeping, control } from './task-options';
import { rootMessage, TaskTable, type TaskSpec } from './task-table';
export { chain, evaluateTriggerRule, rootMessage, tasksQuery, TaskTable, type TaskSpec, type TriggerRule } from './task-table';
import { dateOfKey, intervalForFireTime, intervalForKey, previousKey, runKeyOf, type DataInterval } from '../src/timetable';

// ---- DAG runs ---------------------------------------------------------------------------------

/** What a DAG run needs of its definition: a DAG file's, or a synthetic one (noopDag). */
export type DagPolicy = Pick<
  DagDefinition,
  'dagId' | 'description' | 'schedule' | 'timezone' | 'timetable' | 'startDate' | 'maxActiveRuns' | 'tags' | 'defaultArgs'
> &
  Partial<Pick<DagDefinition, 'taskPools'>>;

export interface DagRunContext {
  ds: string;
  /** What names the run among its DAG's (`<dag_id>-<key>`): its ds, or its ts for a sub-daily DAG. */
  key: string;
  interval: DataInterval;
  conf: DagRunConf;
  settings: RunSettings;
  tasks: TaskTable;
  /** A one-off run on a worker of its own (`baton dags test`): it takes no slot and announces no asset update. */
  test: boolean;
  /** A cleared run: what it runs again, and what the execution it continues finished (its outputs kept). */
  clear?: ClearRequest;
  recorded?: RecordedRun;
  /** A DAG file's run: its approval tasks' answers. */
  approvals?: Approvals;
  /** Tells the DAG's and the task's notifiers of an event (a DAG file's run). */
  notify?: (event: NotifierEvent, detail: { taskId?: string; state: string; message: string; error?: string }, to?: 'task' | 'dag' | 'both') => Promise<void>;
}

/** What a DAG run finished: its conf, task table and outputs (what a clear keeps). */
export const recordQuery = defineQuery<RecordedRun>(Queries.record);
/** Sets a task's state by hand in a running run. */
export const markUpdate = defineUpdate<string, [MarkRequest]>(Updates.markTask);

/**
 * One DAG run, as Airflow runs it: validate the logical date and conf, label the run
 * (search attributes BatonDag/BatonDs/BatonTags, memo owner/description), wait for the
 * previous run when depends_on_past, take one of the DAG's max_active_runs slots, run the
 * tasks, and send the failure alert once when the run fails.
 */
export async function runDag<R>(
  dag: DagPolicy,
  input: Partial<DagRunInput> | undefined,
  taskIds: readonly (string | TaskSpec)[],
  body: (run: DagRunContext) => Promise<R>,
  /** Checks the run's conf before the run takes a slot or a task starts (a DAG's params); throws to fail the run. */
  checkConf?: (conf: DagRunConf) => void,
): Promise<R> {
  try {
    const result = await dagRun(dag, input, taskIds, body, checkConf);
    recordRun(dag.dagId, 'success');
    return result;
  } catch (err) {
    recordRun(dag.dagId, 'failed'); // bad input, depends_on_past and cancellation included
    throw err;
  }
}

async function dagRun<R>(
  dag: DagPolicy,
  input: Partial<DagRunInput> | undefined,
  taskIds: readonly (string | TaskSpec)[],
  body: (run: DagRunContext) => Promise<R>,
  checkConf?: (conf: DagRunConf) => void,
): Promise<R> {
  const { interval, key } = logicalInterval(dag, input);
  const ds = interval.ds;
  // A cleared run continues an earlier execution of itself: what that finished, and its conf.
  const clear = input?.clear;
  const recorded =
    clear && clear.action !== 'rerun'
      ? await bookkeeping.recordedRun.executeWithOptions({ summary: `${clear.action} by ${clear.by}: what run ${clear.runId} finished` }, [
          { workflowId: workflowInfo().workflowId, runId: clear.runId },
        ])
      : undefined;
  const conf = runConf(dag, input?.conf ?? recorded?.conf);
  checkConf?.(conf);
  upsertSearchAttributes([
    { key: SearchAttributeKeys.dag, value: dag.dagId },
    { key: SearchAttributeKeys.ds, value: ds },
    // A sub-daily run is found by its ts too (runs of DAGs that run at most daily are as they were).
    ...(key !== ds ? [{ key: SearchAttributeKeys.ts, value: key }] : []),
    { key: SearchAttributeKeys.tags, value: [...dag.tags] },
  ]);
  upsertMemo({ owner: dag.defaultArgs.owner, description: dag.description });
  const tasks = new TaskTable(taskIds, dag.dagId);
  // Until its tasks start (it may wait for the previous run or a slot), the run answers what it
  // has, and a mark is refused at once rather than held.
  setHandler(recordQuery, (): RecordedRun => ({ conf, tasks: tasks.list(), outputs: {} }));
  setHandler(markUpdate, (request: MarkRequest) => request.taskId, {
    validator: (_request: MarkRequest) => {
      throw new Error(`${dag.dagId} ${key} has not started its tasks (it waits for the previous run or a run slot): mark a task once it runs`);
    },
  });
  const settings = await control.runSettings();
  // What this run does differently from runs started by earlier workers is decided by the
  // settings in its history, so a replay (or a reset) takes the same path. Protocol 2: slots
  // from pool keepers by token; depends_on_past passes when there is no previous run.
  const protocol = settings.protocol ?? 1;
  const pools = protocol >= 2;
  const passesWithoutPrevious = protocol >= 2;
  const run: DagRunContext = { ds, key, interval, conf, settings, tasks, test: input?.test === true, ...(clear ? { clear, recorded } : {}) };
  if (clear) continueRun(taskIds, tasks, clear, recorded);

  const refresh = (settings.slotRefresh ?? '5 minutes') as Duration;
  if (pools && dag.taskPools && input?.test !== true) tasks.pools = { ds: key, taskPools: dag.taskPools, refresh };
  if (dag.defaultArgs.dependsOnPast) await waitForPreviousRun(dag, key, settings, tasks, passesWithoutPrevious);
  let slot: RunRef | PoolGrant | undefined;
  if (dag.maxActiveRuns !== null && input?.test !== true) {
    slot = pools
      ? await takePoolSlot({
          pool: runsPool(dag.dagId),
          capacity: dag.maxActiveRuns,
          slots: 1,
          priority: 0,
          ds: key,
          ordered: startedInOrder(dag),
          refresh,
          summary: `max_active_runs=${dag.maxActiveRuns}: queue for a run slot`,
        })
      : await acquireRunSlot(dag, key);
  }
  try {
    return await body(run);
  } catch (err) {
    // email_on_failure: one alert per failed run, after the task's retries are spent.
    const failed = tasks.failedTask();
    // The DAG's notifiers that chose `failure`, however the run failed (a cancelled run did not).
    if (run.notify && !isCancellation(err))
      await run.notify(
        'failure',
        {
          ...(failed ? { taskId: failed.taskId } : {}),
          state: 'failed',
          message: failed ? `the run failed at ${failed.taskId}` : 'the run failed',
          error: failed?.error ?? rootMessage(err),
        },
        'dag',
      );
    if (dag.defaultArgs.emailOnFailure && failed) {
      await CancellationScope.nonCancellable(() =>
        alerts.sendAlert({
          dagId: dag.dagId,
          ds: key,
          to: dag.defaultArgs.email,
          subject: `[${dag.dagId}] ${key} failed at ${failed.taskId}`,
          body: `task ${failed.taskId} failed: ${failed.error ?? rootMessage(err)}\nworkflow ${workflowInfo().workflowId}, run ${workflowInfo().runId}`,
        }),
      );
    }
    throw err;
  } finally {
    if (slot && 'token' in slot) await releasePoolSlot(slot);
    else if (slot) await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(slotsWorkflowId(dag.dagId)).signal(releaseRunSlot, slot));
  }
}

/** A cleared run's task table: what the execution it continues finished is kept, the cleared tasks and those marked set apart. */
function continueRun(taskIds: readonly (string | TaskSpec)[], tasks: TaskTable, clear: ClearRequest, recorded: RecordedRun | undefined): void {
  const graph = taskIds.map((t) => (typeof t === 'string' ? { taskId: t, upstream: [] } : { taskId: t.taskId, upstream: t.upstream ?? [] }));
  const ids = new Set(graph.map((t) => t.taskId));
  const marks = Object.entries(clear.marks ?? {})
    .filter(([taskId]) => ids.has(taskId))
    .map(([taskId, state]) => markedRecord(taskId, state, clear.by, clear.reason));
  tasks.restore([...keptRecords(graph, recorded?.tasks ?? [], clear), ...marks]);
  const again = tasks
    .list()
    .filter((t) => t.state === 'scheduled')
    .map((t) => t.taskId);
  tasks.note(
    `${clear.action} by ${clear.by}${clear.reason ? ` (${clear.reason})` : ''}, continuing run ${clear.runId}: ${again.length ? `runs again ${again.join(', ')}` : 'nothing runs again'}`,
  );
}

/**
 * The run's data interval and key: from its input's ds (ts for a sub-daily DAG; a manual,
 * backfilled or scheduled run), or from the run's scheduled time when a bare schedule started
 * it. Invalid input fails the run at once, naming the value.
 */
function logicalInterval(dag: DagPolicy, input: Partial<DagRunInput> | undefined): { interval: DataInterval; key: string } {
  try {
    let interval: DataInterval;
    if (input?.ts !== undefined) {
      parseTs(input.ts); // a value that is no timestamp is named as such
      interval = intervalForKey(dag, input.ts as string);
    } else if (input?.ds !== undefined) interval = intervalForKey(dag, parseDs(input.ds));
    else {
      const fireTime = workflowInfo().typedSearchAttributes.get(SearchAttributeKeys.scheduledStartTime);
      // Only a DAG's schedule starts a run without ds or ts; a DAG scheduled on assets alone has none.
      if (!fireTime || dag.schedule === null) parseDs(undefined);
      interval = intervalForFireTime({ schedule: dag.schedule!, timezone: dag.timezone, timetable: dag.timetable }, fireTime!);
    }
    if (input?.ds !== undefined && input.ts !== undefined && input.ds !== interval.ds)
      throw new Error(`ds ${JSON.stringify(input.ds)} is not the date of ts ${interval.ts} in ${dag.timezone} (${interval.ds}); give one of them`);
    return { interval, key: runKeyOf(dag, interval) };
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${dag.dagId}: ${(err as Error).message}`, 'InvalidLogicalDate');
  }
}

function runConf(dag: DagPolicy, conf: unknown): DagRunConf {
  if (conf === undefined || conf === null) return {};
  if (typeof conf !== 'object' || Array.isArray(conf)) {
    throw ApplicationFailure.nonRetryable(`${dag.dagId}: conf must be a JSON object, got ${Array.isArray(conf) ? 'an array' : typeof conf}`, 'InvalidConf');
  }
  const size = JSON.stringify(conf).length;
  if (size > MAX_CONF_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `${dag.dagId}: conf is ${size} bytes, more than the ${MAX_CONF_BYTES} allowed; pass a reference (a path, a table) instead`,
      'InvalidConf',
    );
  }
  return conf as DagRunConf;
}

/**
 * depends_on_past: wait until the previous interval's run succeeded; fail if it failed. With
 * no previous run at all (a first run, an isolated manual date, a run past retention, a
 * reversed backfill) it passes, as Airflow does, and says so in the log and the run's details.
 */
async function waitForPreviousRun(dag: DagPolicy, ds: string, settings: RunSettings, tasks: TaskTable, passesWithoutPrevious: boolean): Promise<void> {
  // Validation refuses it (src/dag-validation.ts); a definition that escaped it is named, not guessed at.
  if (dag.schedule === null)
    throw ApplicationFailure.nonRetryable(
      `${dag.dagId}: depends_on_past needs a cron: a DAG scheduled on assets alone has no previous interval`,
      'DependsOnPast',
    );
  const previous = previousKey({ schedule: dag.schedule, timezone: dag.timezone, timetable: dag.timetable }, ds);
  if (dateOfKey(dag, previous) < dag.startDate) return; // the first interval after start_date has no past
  const workflowId = dagRunWorkflowId(dag.dagId, previous);
  let absent = 0;
  for (;;) {
    const { statuses } = await bookkeeping.runStatuses.executeWithOptions({ summary: `depends_on_past: is ${workflowId} done?` }, [
      { workflowIds: [workflowId] },
    ]);
    const status = statuses[workflowId];
    if (status === 'COMPLETED') return;
    // Seen missing twice, a poll apart: a catchup starting the previous date at the same moment has had time to.
    if (status === 'NOT_FOUND' && passesWithoutPrevious && ++absent >= 2) {
      const note = `depends_on_past: no run of ${previous} (${workflowId}) exists; passed, as Airflow does when there is no previous run`;
      log.info(note, { previous: workflowId });
      tasks.note(note);
      return;
    }
    if (UNSUCCESSFUL.includes(status)) {
      throw ApplicationFailure.nonRetryable(
        `${dag.dagId} ${ds}: depends_on_past: the previous run ${workflowId} ${status.toLowerCase().replace('_', ' ')}; rerun ${previous} first`,
        'DependsOnPast',
      );
    }
    log.info('depends_on_past: waiting for the previous run', { previous: workflowId, status });
    await sleep((settings.dependsOnPastPoll ?? '30s') as Duration);
  }
}

/** A backfill starts its dates oldest first; with no more in flight than the DAG's slots, they need no reordering. */
function startedInOrder(dag: DagPolicy): boolean {
  const { backfill } = (workflowInfo().memo ?? {}) as Partial<BackfillMemo>;
  return backfill !== undefined && backfill.maxActive <= (dag.maxActiveRuns ?? 1);
}

/** max_active_runs: queue at the DAG's slot keeper and wait for a slot (oldest logical date first). */
async function acquireRunSlot(dag: DagPolicy, ds: string): Promise<RunRef> {
  const { workflowId, runId } = workflowInfo();
  const me: RunRef = { workflowId, runId };
  let granted = false;
  setHandler(runSlotGranted, (ref) => {
    if (ref.runId === runId) granted = true;
  });
  await bookkeeping.requestRunSlot.executeWithOptions({ summary: `max_active_runs=${dag.maxActiveRuns}: queue for a run slot` }, [
    { dagId: dag.dagId, capacity: dag.maxActiveRuns ?? 1, holder: { ...me, ds, ...(startedInOrder(dag) ? { ordered: true } : {}) } },
  ]);
  await condition(() => granted);
  return me;
}
