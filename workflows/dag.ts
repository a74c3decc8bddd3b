/**
 * The DAG toolkit shared by Baton's workflows: a task table with Airflow's task states,
 * branching and skips, and the life of a DAG run (logical date, labels, depends_on_past,
 * max_active_runs, failure alerts). Deterministic: no I/O, time is workflow time.
 */
import { defineSearchAttributeKey, SearchAttributeType, type Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  MAX_CONF_BYTES,
  runsPool,
  Queries,
  SearchAttributeNames,
  Signals,
  slotsWorkflowId,
  UNSUCCESSFUL,
  type BackfillMemo,
  type DagRunConf,
  type DagRunInput,
  type RunRef,
  type RunSettings,
  type TaskRecord,
  type TaskState,
} from '../src/contracts';
import { dagRunWorkflowId, type DagDefinition } from '../src/dags';
import { findPool, type TaskPool } from '../src/pools';
import { releasePoolSlot, takePoolSlot } from './pools';
import type { PoolGrant } from '../src/contracts';
import { parseDs } from '../src/logical-date';
import { recordRun, recordTask } from './metrics';
import { intervalForFireTime, intervalForLogicalDate, previousLogicalDate, type DataInterval } from '../src/timetable';

export const tasksQuery = defineQuery<TaskRecord[]>(Queries.tasks);

/** The innermost failure message: what actually went wrong, not "Activity task failed". */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/** When a task runs, given its upstream tasks' states (Airflow's trigger rules). */
export type TriggerRule = 'all_success' | 'none_failed_min_one_success';

export interface TaskSpec {
  taskId: string;
  upstream?: readonly string[];
  /** `all_success` by default. */
  triggerRule?: TriggerRule;
}

/** `a >> b >> c`: each task downstream of the one before. */
export function chain(...taskIds: string[]): TaskSpec[] {
  return taskIds.map((taskId, i) => ({ taskId, upstream: i ? [taskIds[i - 1]] : [] }));
}

const DONE: readonly TaskState[] = ['success', 'failed', 'skipped', 'upstream_failed'];

/** What a trigger rule decides from the upstream states: run, skip, upstream_failed, or not yet. */
export function evaluateTriggerRule(rule: TriggerRule, upstream: readonly TaskState[]): 'run' | 'skipped' | 'upstream_failed' | 'wait' {
  if (upstream.some((s) => s === 'failed' || s === 'upstream_failed')) return 'upstream_failed';
  if (rule === 'all_success') {
    if (upstream.some((s) => s === 'skipped')) return 'skipped';
    return upstream.every((s) => s === 'success') ? 'run' : 'wait';
  }
  // none_failed_min_one_success: a join after a branch runs once every upstream is done and one succeeded.
  if (!upstream.every((s) => DONE.includes(s))) return 'wait';
  return upstream.some((s) => s === 'success') ? 'run' : 'skipped';
}

export class TaskTable {
  private readonly records = new Map<string, TaskRecord>();
  private readonly specs = new Map<string, Required<TaskSpec>>();
  private readonly notes: string[] = [];

  /**
   * Tasks in the DAG's order, with their upstream tasks and trigger rules; all start
   * `scheduled`. A bare task id has no upstream. Registers the `tasks` query.
   */
  /** Set by the DAG run: what a task with a pool needs to queue for its slot. */
  pools?: { ds: string; taskPools: Record<string, TaskPool>; refresh: Duration };

  constructor(tasks: readonly (string | TaskSpec)[], private readonly dagId = '') {
    for (const task of tasks) {
      const spec = typeof task === 'string' ? { taskId: task } : task;
      this.specs.set(spec.taskId, { taskId: spec.taskId, upstream: spec.upstream ?? [], triggerRule: spec.triggerRule ?? 'all_success' });
      this.records.set(spec.taskId, { taskId: spec.taskId, state: 'scheduled' });
    }
    for (const spec of this.specs.values()) for (const up of spec.upstream) this.get(up);
    setHandler(tasksQuery, () => this.list());
    this.publish();
  }

  /** The task table as the run's current details: what the Web UI shows on the run's page. */
  private publish(): void {
    const rows = this.list().map((t) => {
      // An error goes in a code span, so the Web UI's markdown shows it as written (no curly quotes).
      const output = t.error ? `error: \`${t.error.replace(/`/g, "'")}\`` : Object.entries(t.output ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
      const duration = t.durationMs === undefined ? '' : `${(t.durationMs / 1000).toFixed(1)}s`;
      return `| ${t.taskId} | ${t.state} | ${duration} | ${output.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`;
    });
    const notes = this.notes.map((n) => `> ${n}\n`);
    setCurrentDetails([...notes, '| task | state | duration | output |', '| --- | --- | --- | --- |', ...rows].join('\n'));
  }

  /**
   * Runs one task once its trigger rule lets it. Its output summary is kept as the task's
   * XCom. `skipWhen` turns a result into a skip (a soft-failed sensor), which skips what
   * depends on it. On failure the task is `failed`, what depends on it `upstream_failed`,
   * and the workflow fails with a message naming the task and the root cause.
   */
  async run<T>(
    taskId: string,
    work: () => Promise<T>,
    output?: (result: T) => TaskRecord['output'],
    options: { skipWhen?: (result: T) => string | undefined } = {},
  ): Promise<T> {
    const record = this.get(taskId);
    const verdict = this.verdict(taskId);
    if (record.state !== 'scheduled' || verdict !== 'run') {
      const upstream = this.specs.get(taskId)!.upstream.map((u) => `${u}=${this.get(u).state}`).join(', ');
      throw ApplicationFailure.nonRetryable(`task ${taskId} cannot run: it is ${record.state}, upstream ${upstream || 'none'}`, 'DagDefinitionError');
    }
    const taskPool = this.pools?.taskPools[taskId];
    let slot: PoolGrant | undefined;
    if (taskPool && this.pools) {
      // Airflow's `queued`: waiting for pool slots; the task's time starts when it runs.
      record.state = 'queued';
      this.publish();
      const slots = taskPool.poolSlots ?? 1;
      const capacity = findPool(taskPool.pool)?.slots ?? 0;
      slot = await takePoolSlot({
        pool: taskPool.pool,
        capacity,
        slots,
        priority: taskPool.priorityWeight ?? 1,
        ds: this.pools.ds,
        taskId,
        refresh: this.pools.refresh,
        summary: `${taskId}: ${slots} slot(s) of pool ${taskPool.pool} (${capacity})`,
      });
    }
    record.state = 'running';
    record.startedAt = new Date().toISOString();
    const started = Date.now();
    this.publish();
    try {
      const result = await work();
      if (output) record.output = output(result);
      const skipReason = options.skipWhen?.(result);
      record.state = skipReason === undefined ? 'success' : 'skipped';
      if (skipReason !== undefined) record.output = { ...record.output, skipped: skipReason };
      this.propagate();
      return result;
    } catch (err) {
      record.state = 'failed';
      record.error = rootMessage(err);
      this.propagate();
      // The run stops here: what was still waiting will not run.
      for (const other of this.records.values()) if (other.state === 'scheduled') other.state = 'upstream_failed';
      throw ApplicationFailure.create({
        message: `task ${taskId} failed: ${record.error}`,
        type: 'TaskFailed',
        nonRetryable: true,
        cause: err as Error,
      });
    } finally {
      if (slot) await releasePoolSlot(slot);
      record.durationMs = Date.now() - started;
      recordTask(this.dagId, taskId, record.state, record.durationMs);
      this.publish();
    }
  }

  /** A line about the run shown above the task table (the run's details in the Web UI). */
  note(line: string): void {
    this.notes.push(line);
    this.publish();
  }

  /** The run's notes (a depends_on_past that passed without a previous run). */
  listNotes(): string[] {
    return [...this.notes];
  }

  /** Marks tasks a branch did not choose (Airflow's BranchPythonOperator); what depends only on them is skipped too. */
  skip(...taskIds: string[]): void {
    for (const taskId of taskIds) this.get(taskId).state = 'skipped';
    this.propagate();
    this.publish();
  }

  /** Takes out a task this run's version of the DAG does not have (a run started before it was added). */
  remove(taskId: string): void {
    this.get(taskId);
    this.records.delete(taskId);
    this.specs.delete(taskId);
    for (const spec of this.specs.values()) spec.upstream = spec.upstream.filter((u) => u !== taskId);
    this.publish();
  }

  /** Whether a task's trigger rule lets it run now. */
  ready(taskId: string): boolean {
    return this.get(taskId).state === 'scheduled' && this.verdict(taskId) === 'run';
  }

  state(taskId: string): TaskState {
    return this.get(taskId).state;
  }

  failedTask(): TaskRecord | undefined {
    return [...this.records.values()].find((r) => r.state === 'failed');
  }

  list(): TaskRecord[] {
    return [...this.records.values()].map((r) => ({ ...r, ...(r.output ? { output: { ...r.output } } : {}) }));
  }

  private verdict(taskId: string) {
    const spec = this.specs.get(taskId)!;
    if (spec.upstream.length === 0) return 'run';
    return evaluateTriggerRule(spec.triggerRule, spec.upstream.map((u) => this.get(u).state));
  }

  /** Settles every waiting task whose trigger rule can no longer be met: skipped or upstream_failed. */
  private propagate(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const record of this.records.values()) {
        if (record.state !== 'scheduled') continue;
        const verdict = this.verdict(record.taskId);
        if (verdict === 'skipped' || verdict === 'upstream_failed') {
          record.state = verdict;
          changed = true;
        }
      }
    }
  }

  private get(taskId: string): TaskRecord {
    const record = this.records.get(taskId);
    if (!record) throw new Error(`unknown task ${taskId}`);
    return record;
  }
}

// ---- DAG runs ---------------------------------------------------------------------------------

/** What a DAG run needs of its definition; DAGs in src/dags.ts, or a synthetic one (noopDag). */
export type DagPolicy = Pick<
  DagDefinition,
  'dagId' | 'description' | 'schedule' | 'timezone' | 'timetable' | 'startDate' | 'maxActiveRuns' | 'tags' | 'defaultArgs'
> &
  Partial<Pick<DagDefinition, 'maxRejectedRatio' | 'taskPools'>>;

export interface DagRunContext {
  ds: string;
  interval: DataInterval;
  conf: DagRunConf;
  settings: RunSettings;
  tasks: TaskTable;
}

const control = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });
const bookkeeping = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } });
/** Alert mails: a few quick tries, whatever the DAG's own retry policy. */
export const alerts = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3 } });

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
const batonDag = defineSearchAttributeKey(SearchAttributeNames.dag, SearchAttributeType.KEYWORD);
const batonDs = defineSearchAttributeKey(SearchAttributeNames.ds, SearchAttributeType.KEYWORD);
const batonTags = defineSearchAttributeKey(SearchAttributeNames.tags, SearchAttributeType.KEYWORD_LIST);
export const slotGranted = defineSignal<[RunRef]>(Signals.slotGranted);
export const releaseSlot = defineSignal<[RunRef]>(Signals.releaseSlot);

/**
 * One DAG run, as Airflow runs it: validate the logical date and conf, label the run
 * (search attributes BatonDag/BatonDs/BatonTags, memo owner/description), wait for the
 * previous run when depends_on_past, take one of the DAG's max_active_runs slots, run the
 * tasks, and send the failure alert once when the run fails.
 */
export async function runDag<R>(dag: DagPolicy, input: Partial<DagRunInput> | undefined, taskIds: readonly (string | TaskSpec)[], body: (run: DagRunContext) => Promise<R>): Promise<R> {
  try {
    const result = await dagRun(dag, input, taskIds, body);
    recordRun(dag.dagId, 'success');
    return result;
  } catch (err) {
    recordRun(dag.dagId, 'failed'); // bad input, depends_on_past and cancellation included
    throw err;
  }
}

async function dagRun<R>(dag: DagPolicy, input: Partial<DagRunInput> | undefined, taskIds: readonly (string | TaskSpec)[], body: (run: DagRunContext) => Promise<R>): Promise<R> {
  const ds = logicalDate(dag, input);
  const conf = runConf(dag, input?.conf);
  upsertSearchAttributes([
    { key: batonDag, value: dag.dagId },
    { key: batonDs, value: ds },
    { key: batonTags, value: [...dag.tags] },
  ]);
  upsertMemo({ owner: dag.defaultArgs.owner, description: dag.description });
  const tasks = new TaskTable(taskIds, dag.dagId);
  const settings = await control.runSettings();
  // What this run does differently from runs started by earlier workers is decided by the
  // settings in its history, so a replay (or a reset) takes the same path. Protocol 2: slots
  // from pool keepers by token; depends_on_past passes when there is no previous run.
  const protocol = settings.protocol ?? 1;
  const pools = protocol >= 2;
  const passesWithoutPrevious = protocol >= 2;
  const run: DagRunContext = { ds, interval: intervalForLogicalDate(dag, ds), conf, settings, tasks };

  const refresh = (settings.slotRefresh ?? '5 minutes') as Duration;
  if (pools && dag.taskPools) tasks.pools = { ds, taskPools: dag.taskPools, refresh };
  if (dag.defaultArgs.dependsOnPast) await waitForPreviousRun(dag, ds, settings, tasks, passesWithoutPrevious);
  let slot: RunRef | PoolGrant | undefined;
  if (dag.maxActiveRuns !== null) {
    slot = pools
      ? await takePoolSlot({
          pool: runsPool(dag.dagId),
          capacity: dag.maxActiveRuns,
          slots: 1,
          priority: 0,
          ds,
          ordered: startedInOrder(dag),
          refresh,
          summary: `max_active_runs=${dag.maxActiveRuns}: queue for a run slot`,
        })
      : await acquireRunSlot(dag, ds);
  }
  try {
    return await body(run);
  } catch (err) {
    // email_on_failure: one alert per failed run, after the task's retries are spent.
    const failed = tasks.failedTask();
    if (dag.defaultArgs.emailOnFailure && failed) {
      await CancellationScope.nonCancellable(() =>
        alerts.sendAlert({
          dagId: dag.dagId,
          ds,
          to: dag.defaultArgs.email,
          subject: `[${dag.dagId}] ${ds} failed at ${failed.taskId}`,
          body: `task ${failed.taskId} failed: ${rootMessage(err)}\nworkflow ${workflowInfo().workflowId}, run ${workflowInfo().runId}`,
        }),
      );
    }
    throw err;
  } finally {
    if (slot && 'token' in slot) await releasePoolSlot(slot);
    else if (slot) await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(slotsWorkflowId(dag.dagId)).signal(releaseSlot, slot));
  }
}

/**
 * ds from the input (a manual, backfilled or scheduled run), or from the run's scheduled time
 * when a bare schedule started it. Invalid input fails the run at once, naming the value.
 */
function logicalDate(dag: DagPolicy, input: Partial<DagRunInput> | undefined): string {
  try {
    if (input?.ds !== undefined) return parseDs(input.ds);
    const fireTime = workflowInfo().typedSearchAttributes.get(scheduledStartTime);
    if (fireTime) return intervalForFireTime(dag, fireTime).ds;
    return parseDs(undefined);
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
    throw ApplicationFailure.nonRetryable(`${dag.dagId}: conf is ${size} bytes, more than the ${MAX_CONF_BYTES} allowed; pass a reference (a path, a table) instead`, 'InvalidConf');
  }
  return conf as DagRunConf;
}

/**
 * depends_on_past: wait until the previous interval's run succeeded; fail if it failed. With
 * no previous run at all (a first run, an isolated manual date, a run past retention, a
 * reversed backfill) it passes, as Airflow does, and says so in the log and the run's details.
 */
async function waitForPreviousRun(dag: DagPolicy, ds: string, settings: RunSettings, tasks: TaskTable, passesWithoutPrevious: boolean): Promise<void> {
  const previous = previousLogicalDate(dag, ds);
  if (previous < dag.startDate) return; // the first interval after start_date has no past
  const workflowId = dagRunWorkflowId(dag.dagId, previous);
  let absent = 0;
  for (;;) {
    const { statuses } = await bookkeeping.runStatuses.executeWithOptions({ summary: `depends_on_past: is ${workflowId} done?` }, [{ workflowIds: [workflowId] }]);
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
  setHandler(slotGranted, (ref) => {
    if (ref.runId === runId) granted = true;
  });
  await bookkeeping.requestRunSlot.executeWithOptions({ summary: `max_active_runs=${dag.maxActiveRuns}: queue for a run slot` }, [
    { dagId: dag.dagId, capacity: dag.maxActiveRuns ?? 1, holder: { ...me, ds, ...(startedInOrder(dag) ? { ordered: true } : {}) } },
  ]);
  await condition(() => granted);
  return me;
}
