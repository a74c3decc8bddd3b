/**
 * The DAG engine: one deterministic workflow that runs any DAG file's graph. Every task whose
 * trigger rule is met starts at once (independent branches overlap: their activities are
 * scheduled in the same workflow task), each operator is one configured activity (branch,
 * shortCircuit and empty run here, as pure functions), a failure is its task's alone (the other
 * branches go on, teardowns run), and the run fails when any task but a teardown failed.
 * Retries are the task's own (retries, retry delay, exponential backoff up to a maximum), with
 * on_retry, on_failure and on_success callbacks. Templates see ds, the data interval, params
 * (validated with the DAG's schema before any task runs), conf and upstream outputs (XCom).
 */
import { ApplicationFailure, CancellationScope, condition, isCancellation, patched, setHandler } from '@temporalio/workflow';
import { markedRecord } from '../src/clear';
import { MARKABLE_STATES, type DagRunInput, type MarkRequest, type RecordedRun, type TaskRecord } from '../src/contracts';
import { paramsOf, type CompiledDag, type CompiledTask } from '../src/sdk/compile';
import { tsNodash } from '../src/logical-date';
import type { RunContext } from '../src/sdk/types';
import { Approvals, checkOperator } from './approvals';
import { notifierOf, watchDeadlines } from './notifiers';
import { markUpdate, recordQuery, runDag, type DagRunContext } from './dag';
import { afterSuccess, asFailure, runTask } from './task-run';

/** Refuses a mark the run cannot take, naming why: an unknown task or state, a task already in that state, a run already settled. */
function checkMark(dag: CompiledDag, run: DagRunContext, request: MarkRequest, settled: boolean): void {
  if (settled) throw new Error(`${dag.dagId} ${run.key} has settled its tasks: mark a finished run with \`baton runs mark\` (it continues the run)`);
  if (!request || typeof request.taskId !== 'string' || !dag.tasks.some((t) => t.taskId === request.taskId))
    throw new Error(`no task ${JSON.stringify(request?.taskId)} in ${dag.dagId}; its tasks are ${dag.tasks.map((t) => t.taskId).join(', ')}`);
  if (!MARKABLE_STATES.includes(request.state)) throw new Error(`a task is marked ${MARKABLE_STATES.join(', ')}, not ${JSON.stringify(request.state)}`);
  checkOperator(request);
  const state = run.tasks.state(request.taskId);
  if (state === request.state) throw new Error(`${request.taskId} is already ${state}`);
}

export interface DagFileRunResult {
  dagId: string;
  ds: string;
  state: 'success' | 'success_with_skips';
  tasks: TaskRecord[];
  [key: string]: unknown;
}

/** Runs a compiled DAG file for the run's input: the workflow of every DAG under workflows/dags/. */
export async function runDagFile(dag: CompiledDag, input?: Partial<DagRunInput>): Promise<DagFileRunResult> {
  // Bad params fail the run before it takes a slot or starts a task.
  let params: Record<string, unknown> = {};
  return runDag(
    dag.definition,
    input,
    dag.tasks.map((t) => ({ taskId: t.taskId, upstream: t.upstream, triggerRule: t.triggerRule, setups: t.setups, inScopeOf: t.inScopeOf })),
    async (run) => {
      const outputs: Record<string, unknown> = {};
      const cacheOutcomes: Record<string, string> = {};
      const context = (): RunContext => ({
        dagId: dag.dagId,
        ds: run.ds,
        ds_nodash: run.ds.replace(/-/g, ''),
        ts: run.interval.ts!,
        ts_nodash: tsNodash(run.interval.ts!),
        data_interval_start: run.interval.dataIntervalStart,
        data_interval_end: run.interval.dataIntervalEnd,
        params,
        conf: run.conf,
        xcom: outputs,
        states: Object.fromEntries(run.tasks.list().map((t) => [t.taskId, t.state])),
        cached: { ...cacheOutcomes },
      });
      const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
      // What a clear of this run keeps: its conf, task table and outputs, read by replaying it.
      setHandler(recordQuery, (): RecordedRun => ({ conf: run.conf, tasks: run.tasks.list(), outputs }));
      // Runs started by workers before runs could be operated replay as they ran: no marks, no
      // notifiers, no deadlines, and their tasks' promises chained as they were.
      if (!patched('operate-runs')) {
        setHandler(markUpdate, (request: MarkRequest) => request.taskId, {
          validator: (_request: MarkRequest) => {
            throw new Error(`${dag.dagId} ${run.key} started before its tasks could be marked: mark it once it has ended (that continues it)`);
          },
        });
        return legacyRun(dag, run, context, outputs, cacheOutcomes, byId);
      }
      run.approvals = new Approvals(dag, run.tasks);
      const notify = notifierOf(dag, run);
      run.notify = notify;
      const stopDeadlines = watchDeadlines(dag, run, notify);
      if (run.recorded) keepRecorded(dag, run, outputs);
      const inFlight = new Map<string, { scope: CancellationScope; done: Promise<void> }>();
      // Marks by hand (`baton runs mark`): a running task's work is cancelled, then it takes the state.
      const marks = new Map<string, MarkRequest>();
      let marked = 0;
      const applyMark = (request: MarkRequest) => {
        run.tasks.mark(markedRecord(request.taskId, request.state, request.by, request.reason));
        run.tasks.note(`${request.taskId} marked ${request.state} by ${request.by}${request.reason ? ` (${request.reason})` : ''}`);
        marked++;
      };
      let settled = false;
      setHandler(
        markUpdate,
        (request) => {
          marks.set(request.taskId, request);
          const running = inFlight.get(request.taskId);
          if (running) running.scope.cancel();
          else applyMark(request);
          return `${request.taskId} ${request.state}`;
        },
        { validator: (request) => checkMark(dag, run, request, settled) },
      );
      for (;;) {
        for (const taskId of dag.order) {
          if (inFlight.has(taskId) || !run.tasks.ready(taskId)) continue;
          const task = byId.get(taskId)!;
          const scope = new CancellationScope();
          const done = scope
            .run(() => runTask(dag, task, run, context, outputs, cacheOutcomes))
            .catch((err) => {
              // A task cancelled for a mark ends as marked; a cancelled run ends cancelled.
              if (!(isCancellation(err) && marks.has(taskId))) throw err;
            })
            .finally(() => {
              inFlight.delete(taskId);
              const mark = marks.get(taskId);
              if (mark) applyMark(mark);
            });
          inFlight.set(taskId, { scope, done });
        }
        if (inFlight.size === 0) break;
        const seen = marked;
        await Promise.race([...[...inFlight.values()].map((t) => t.done), condition(() => marked !== seen)]);
      }
      settled = true;
      stopDeadlines();
      return settle(dag, run, context, byId, notify);
    },
    (conf) => {
      params = resolveParams(dag, conf);
    },
  );
}

/**
 * A cleared run keeps the outputs of the tasks it keeps, and what its kept branches and short
 * circuits decided for the tasks it runs again.
 */
function keepRecorded(dag: CompiledDag, run: DagRunContext, outputs: Record<string, unknown>): void {
  for (const task of dag.tasks) {
    if (run.tasks.state(task.taskId) !== 'success' || run.clear?.marks?.[task.taskId]) continue;
    if (!(task.taskId in run.recorded!.outputs)) continue;
    const output = run.recorded!.outputs[task.taskId];
    outputs[task.taskId] = output;
    afterSuccess(dag, task, output, run, { kept: true });
  }
}

/**
 * A run started before runs could be operated: its tasks' promises chained as they were then, so
 * its replay schedules what its history holds, in the same order.
 */
async function legacyRun(
  dag: CompiledDag,
  run: DagRunContext,
  context: () => RunContext,
  outputs: Record<string, unknown>,
  cacheOutcomes: Record<string, string>,
  byId: Map<string, CompiledTask>,
): Promise<DagFileRunResult> {
  const inFlight = new Map<string, Promise<void>>();
  for (;;) {
    for (const taskId of dag.order) {
      if (inFlight.has(taskId) || !run.tasks.ready(taskId)) continue;
      inFlight.set(
        taskId,
        runTask(dag, byId.get(taskId)!, run, context, outputs, cacheOutcomes).finally(() => inFlight.delete(taskId)),
      );
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  return settle(dag, run, context, byId);
}

/** The run's end once its tasks settled: a failure naming the tasks that failed, or its result (and the notifiers told). */
async function settle(
  dag: CompiledDag,
  run: DagRunContext,
  context: () => RunContext,
  byId: Map<string, CompiledTask>,
  notify?: ReturnType<typeof notifierOf>,
): Promise<DagFileRunResult> {
  const table = run.tasks.list();
  const stuck = table.filter((t) => t.state === 'scheduled' || t.state === 'running' || t.state === 'queued');
  if (stuck.length)
    throw ApplicationFailure.nonRetryable(`${dag.dagId}: tasks ${stuck.map((t) => t.taskId).join(', ')} could not be settled`, 'DagDefinitionError');
  const failed = table.filter((t) => t.state === 'failed' && !byId.get(t.taskId)!.teardown);
  if (failed.length) throw ApplicationFailure.nonRetryable(failed.map((t) => `task ${t.taskId} failed: ${t.error}`).join('; '), 'TaskFailed');
  // The result is the DAG's own code too: a read of what is not there fails the run, naming it.
  const result = await Promise.resolve()
    .then(() => dag.file.result?.(context()) ?? {})
    .catch(asFailure);
  const skips = table.some((t) => t.state === 'skipped') ? 'success_with_skips' : 'success';
  const state = result.state === 'success' || result.state === 'success_with_skips' ? result.state : skips;
  if (notify) {
    if (result.empty === true) await notify('empty', { state, message: 'an empty day: no data to process' }, 'dag');
    await notify('success', { state, message: `succeeded (${state})` }, 'dag');
  }
  return { ...result, dagId: dag.dagId, ds: run.ds, ...(run.key !== run.ds ? { ts: run.key } : {}), state, tasks: run.tasks.list() };
}

/** The DAG's params from the run's conf, or the run fails before any task, naming each problem. */
function resolveParams(dag: CompiledDag, conf: Record<string, unknown>): Record<string, unknown> {
  const resolved = paramsOf(dag.file, conf);
  if ('params' in resolved) return resolved.params;
  throw ApplicationFailure.nonRetryable(`${dag.dagId}: bad params, no task was run: ${resolved.problems.join('; ')}`, 'InvalidParams');
}
