/**
 * The task table of a DAG run, as Airflow's grid view shows it: Airflow's task states, trigger
 * rules, branching and skips, pools and notes, answered to the `tasks` query. Deterministic.
 */
import type { Duration } from '@temporalio/common';
import { ApplicationFailure, CancellationScope, defineQuery, patched, setCurrentDetails, setHandler, upsertMemo } from '@temporalio/workflow';
import { Queries, type PoolGrant, type TaskRecord, type TaskState } from '../src/contracts';
import type { TriggerRule } from '../src/sdk/types';
import { findPool, type TaskPool } from '../src/pools';
import { memoNotes, memoRecord, RUN_MEMO_NOTES, RUN_MEMO_PREFIX } from '../src/run-memo';
import { recordTask } from './metrics';
import { releasePoolSlot, takePoolSlot } from './pools';
import { evaluateTriggerRule, isFailed } from './trigger-rules';
export { evaluateTriggerRule } from './trigger-rules';

export const tasksQuery = defineQuery<TaskRecord[]>(Queries.tasks);

export { rootMessage } from '../src/errors';
import { rootMessage } from '../src/errors';

/** When a task runs, given its upstream tasks' states (Airflow's trigger rules, src/sdk/types.ts). */
export type { TriggerRule } from '../src/sdk/types';

export interface TaskSpec {
  taskId: string;
  upstream?: readonly string[];
  /** `all_success` by default. */
  triggerRule?: TriggerRule;
  /** Its upstream tasks that are setups (what all_done_setup_success asks of). */
  setups?: readonly string[];
  /** The setups in whose scope it is, not directly upstream: one failed or skipped fails or skips it. */
  inScopeOf?: readonly string[];
}

/** `a >> b >> c`: each task downstream of the one before. */
export function chain(...taskIds: string[]): TaskSpec[] {
  return taskIds.map((taskId, i) => ({ taskId, upstream: i ? [taskIds[i - 1]] : [] }));
}

export class TaskTable {
  private readonly records = new Map<string, TaskRecord>();
  private readonly specs = new Map<string, Required<TaskSpec>>();
  private readonly notes: string[] = [];
  /** Tasks whose state their trigger rules settled (not run, not skipped by a branch): a mark upstream settles them again. */
  private readonly derived = new Set<string>();
  /** What the run's memo holds of each task and of the notes. */
  private readonly memoSent = new Map<string, string>();

  /**
   * Tasks in the DAG's order, with their upstream tasks and trigger rules; all start
   * `scheduled`. A bare task id has no upstream. Registers the `tasks` query.
   */
  /** Set by the DAG run: what a task with a pool needs to queue for its slot. */
  pools?: { ds: string; taskPools: Record<string, TaskPool>; refresh: Duration };

  constructor(
    tasks: readonly (string | TaskSpec)[],
    private readonly dagId = '',
  ) {
    for (const task of tasks) {
      const spec = typeof task === 'string' ? { taskId: task } : task;
      this.specs.set(spec.taskId, {
        taskId: spec.taskId,
        upstream: spec.upstream ?? [],
        triggerRule: spec.triggerRule ?? 'all_success',
        setups: spec.setups ?? [],
        inScopeOf: spec.inScopeOf ?? [],
      });
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
      const output = t.error
        ? `error: \`${t.error.replace(/`/g, "'")}\``
        : Object.entries(t.output ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(' ');
      const duration = t.durationMs === undefined ? '' : `${(t.durationMs / 1000).toFixed(1)}s`;
      return `| ${t.taskId} | ${t.state} | ${duration} | ${output.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`;
    });
    const notes = this.notes.map((n) => `> ${n}\n`);
    setCurrentDetails([...notes, '| task | state | duration | output |', '| --- | --- | --- | --- |', ...rows].join('\n'));
    this.keepInMemo();
  }

  /**
   * The table in the run's memo (src/run-memo.ts), where a page reads it with no worker: the tasks
   * that changed since it was last written, at once. Runs started before runs kept it replay
   * without it.
   */
  private keepInMemo(): void {
    if (!patched('console-memo')) return;
    // A cancelled run ends in this activation: its memo keeps the table as it was before.
    if (CancellationScope.current().consideredCancelled) return;
    const changed: Record<string, unknown> = {};
    const keep = (key: string, value: unknown) => {
      const text = JSON.stringify(value);
      if (this.memoSent.get(key) === text) return;
      this.memoSent.set(key, text);
      changed[key] = value;
    };
    for (const record of this.records.values()) keep(`${RUN_MEMO_PREFIX}${record.taskId}`, memoRecord(record));
    if (this.notes.length) keep(RUN_MEMO_NOTES, memoNotes(this.notes));
    if (Object.keys(changed).length) upsertMemo(changed);
  }

  /** The try a task is on (its record's `tries`): a retry is shown at once, a first try with the task's next change. */
  tried(taskId: string, attempt: number): void {
    this.get(taskId).tries = attempt;
    if (attempt > 1) this.publish();
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
    const outcome = await this.execute(taskId, work, output, options);
    if (outcome.ok) return outcome.result;
    // The run stops here: what was still waiting will not run.
    for (const other of this.records.values()) if (other.state === 'scheduled') other.state = 'upstream_failed';
    this.publish();
    throw ApplicationFailure.create({
      message: `task ${taskId} failed: ${outcome.message}`,
      type: 'TaskFailed',
      nonRetryable: true,
      cause: outcome.error as Error,
    });
  }

  /**
   * Runs one task as `run` does, but a failure is the task's alone: it is `failed`, what depends
   * on it is settled by its trigger rules, and the other branches go on (the DAG engine).
   */
  attempt<T>(
    taskId: string,
    work: () => Promise<T>,
    output?: (result: T) => TaskRecord['output'],
    options: { skipWhen?: (result: T) => string | undefined } = {},
  ): Promise<{ ok: true; result: T } | { ok: false; error: unknown; message: string }> {
    return this.execute(taskId, work, output, options);
  }

  private async execute<T>(
    taskId: string,
    work: () => Promise<T>,
    output: ((result: T) => TaskRecord['output']) | undefined,
    options: { skipWhen?: (result: T) => string | undefined },
  ): Promise<{ ok: true; result: T } | { ok: false; error: unknown; message: string }> {
    const record = this.get(taskId);
    const verdict = this.verdict(taskId);
    if (record.state !== 'scheduled' || verdict !== 'run') {
      const upstream = this.specs
        .get(taskId)!
        .upstream.map((u) => `${u}=${this.get(u).state}`)
        .join(', ');
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
      return { ok: true, result };
    } catch (err) {
      record.state = 'failed';
      record.error = rootMessage(err);
      this.propagate();
      return { ok: false, error: err, message: record.error };
    } finally {
      if (slot) await releasePoolSlot(slot);
      record.durationMs = Date.now() - started;
      recordTask(this.dagId, taskId, record.state, record.durationMs);
      this.publish();
    }
  }

  /**
   * Seeds the table with what an earlier execution of the run finished (a cleared run): each
   * record's state, output and error as it was; what depends on them settles as it would have.
   */
  restore(records: readonly TaskRecord[]): void {
    for (const kept of records) {
      if (!this.records.has(kept.taskId)) continue;
      this.records.set(kept.taskId, {
        ...kept,
        ...(kept.output ? { output: { ...kept.output } } : {}),
        ...(kept.mapped ? { mapped: { ...kept.mapped } } : {}),
      });
    }
    this.propagate();
    this.publish();
  }

  /**
   * Sets a task's state by hand (a mark): its record says who set it. What its trigger rules had
   * settled downstream is settled again, so a task marked success lets what waited on it run.
   */
  mark(record: TaskRecord): void {
    this.get(record.taskId);
    this.records.set(record.taskId, { ...record, ...(record.output ? { output: { ...record.output } } : {}) });
    this.derived.delete(record.taskId);
    for (const taskId of this.derived) this.get(taskId).state = 'scheduled';
    this.derived.clear();
    this.propagate();
    this.publish();
  }

  /** What a running task is doing, in its output column (an approval waiting, and for what). */
  progress(taskId: string, output: NonNullable<TaskRecord['output']>): void {
    this.get(taskId).output = { ...output };
    this.publish();
  }

  /** Records how a mapped task's instances ended (set before its own state, so the table shows both together). */
  mapped(taskId: string, mapped: NonNullable<TaskRecord['mapped']>): void {
    this.get(taskId).mapped = mapped;
    this.publish();
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
    for (const spec of this.specs.values()) {
      spec.upstream = spec.upstream.filter((u) => u !== taskId);
      spec.setups = spec.setups.filter((u) => u !== taskId);
      spec.inScopeOf = spec.inScopeOf.filter((u) => u !== taskId);
    }
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
    return [...this.records.values()].map((r) => ({
      ...r,
      ...(r.output ? { output: { ...r.output } } : {}),
      ...(r.mapped ? { mapped: { ...r.mapped } } : {}),
    }));
  }

  private verdict(taskId: string) {
    const spec = this.specs.get(taskId)!;
    // Airflow's setup constraint: a failed or skipped setup settles its scope at once; the scope waits for the others.
    const scope = spec.inScopeOf.map((s) => this.get(s).state);
    if (scope.some(isFailed)) return 'upstream_failed';
    if (scope.includes('skipped')) return 'skipped';
    const rule = evaluateTriggerRule(
      spec.triggerRule,
      spec.upstream.map((u) => this.get(u).state),
      spec.setups.map((s) => this.get(s).state),
    );
    return rule === 'run' && !scope.every((s) => s === 'success') ? 'wait' : rule;
  }

  /** Settles every waiting task whose trigger rule can no longer be met: skipped or upstream_failed. */
  private propagate(): void {
    for (let changed = true; changed;) {
      changed = false;
      for (const record of this.records.values()) {
        if (record.state !== 'scheduled') continue;
        const verdict = this.verdict(record.taskId);
        if (verdict === 'skipped' || verdict === 'upstream_failed') {
          record.state = verdict;
          this.derived.add(record.taskId);
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
