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
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  TemporalFailure,
} from '@temporalio/workflow';
import { markedRecord } from '../src/clear';
import {
  CACHE_POLICIES,
  MARKABLE_STATES,
  type CachePolicy,
  type DagRunInput,
  type FileRef,
  type MarkRequest,
  type RecordedRun,
  type RunSettings,
  type TaskRecord,
} from '../src/contracts';
import type { UserTask } from '../src/operators/task/definition';
import { userTaskArgs } from '../src/operators/task/step';
import { paramsOf, userActivityType, xcomOverflow, type CompiledDag, type CompiledTask } from '../src/sdk/compile';
import { render } from '../src/sdk/templates';
import { mappedTask } from './mapped';
import { tsNodash } from '../src/logical-date';
import type { RunContext, TaskCallback, TaskDefinition } from '../src/sdk/types';
import { announceOutlets } from './assets';
import { Approvals, checkOperator, type ApprovalResult } from './approvals';
import { notifierOf, watchDeadlines } from './notifiers';
import { markUpdate, recordQuery, rootMessage, runDag, type DagRunContext } from './dag';
import { runOperator, type ResolvedOptions } from './operator-steps';
import { cached } from './task-cache';
import { alerts } from './task-options';

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

/** One task, with its retries and callbacks; its failure is recorded in the table, never thrown. */
async function runTask(
  dag: CompiledDag,
  task: CompiledTask,
  run: DagRunContext,
  context: () => RunContext,
  outputs: Record<string, unknown>,
  cacheOutcomes: Record<string, string>,
): Promise<void> {
  const definition = task.definition;
  const options = taskOptions(dag, definition, run.settings);
  const tries = async (): Promise<unknown> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await runOperator(dag, task, run, context(), options, attempt).catch(asFailure);
        return checkOutput(task.taskId, result);
      } catch (err) {
        if (isCancellation(err)) throw err; // the run is being cancelled: no retry
        const retryable = !(isNonRetryable(err) || attempt >= options.attempts);
        if (!retryable) throw err;
        const delay = Math.min(options.delayMs * (options.backoff ? 2 ** (attempt - 1) : 1), options.maxDelayMs);
        log.warn('task failed; retrying', { taskId: task.taskId, attempt, delayMs: delay, error: rootMessage(err) });
        if (run.notify)
          await run.notify('retry', {
            taskId: task.taskId,
            state: 'up_for_retry',
            message: `try ${attempt} of ${options.attempts} failed, retrying in ${Math.round(delay / 1000)}s`,
            error: rootMessage(err),
          });
        await callback(dag, run, task.taskId, definition.onRetry ?? (dag.definition.defaultArgs.emailOnRetry ? mailTo(dag) : undefined), {
          event: 'retry',
          message: `try ${attempt} of ${options.attempts} failed, retrying in ${Math.round(delay / 1000)}s: ${rootMessage(err)}`,
        });
        await sleep(delay);
      }
    }
  };
  const outcome = await run.tasks.attempt(
    task.taskId,
    async () => {
      // skipIf and the cache's templates are the DAG's own code too: an error there fails the task for good.
      const skip = await Promise.resolve()
        .then(() => definition.skipIf?.(context()))
        .catch(asFailure);
      if (skip) return { skipped: skip };
      let result: unknown;
      if (definition.operator === 'task' && definition.map) result = await mappedTask(dag, task.taskId, definition, run, context(), options);
      else if (definition.operator !== 'task' || !definition.cache) result = await tries();
      else {
        const cachedResult = await throughCache(task.taskId, definition, context(), tries).catch(asFailure);
        cacheOutcomes[task.taskId] = cachedResult.status;
        result = cachedResult.result;
      }
      // Airflow emits a task's asset events as it succeeds: announced, then the task is a success (a skip announces nothing).
      if (!isSkip(result)) await announceOutlets(dag, task, run);
      return result;
    },
    (result) => ({
      ...(definition.summary && !isSkip(result) ? (definition.summary as (output: unknown) => Record<string, string | number>)(result) : summary(result)),
      ...(cacheOutcomes[task.taskId] ? { cache: cacheOutcomes[task.taskId] } : {}),
    }),
    { skipWhen: (result) => (isSkip(result) ? String(result.skipped) : undefined) },
  );
  if (outcome.ok) {
    // A skipped task gives no output: a reference to it is then optional(...)'s undefined, or an error.
    if (!isSkip(outcome.result)) outputs[task.taskId] = outcome.result;
    afterSuccess(dag, task, outcome.result, run);
    await callback(dag, run, task.taskId, definition.onSuccess, { event: 'success', message: 'succeeded' });
    if (run.notify) await run.notify('success', { taskId: task.taskId, state: 'success', message: 'succeeded' }, 'task');
  } else {
    // A cancelled run ends as cancelled, not as a failed task.
    if (isCancellation(outcome.error)) throw outcome.error;
    await callback(dag, run, task.taskId, definition.onFailure, { event: 'failure', message: outcome.message });
    if (run.notify) await run.notify('failure', { taskId: task.taskId, state: 'failed', message: 'failed', error: outcome.message }, 'task');
  }
}

/**
 * A cached task: its output from baton.task_cache while the entry for the same args lives, else
 * its tries, stored. The policy is checked here, as rendered; the output must be a file reference.
 */
async function throughCache(taskId: string, definition: UserTask, ctx: RunContext, tries: () => Promise<unknown>) {
  const settings = definition.cache!;
  const policy = render(settings.policy ?? 'inputs+file', ctx);
  if (!(CACHE_POLICIES as readonly string[]).includes(policy))
    throw ApplicationFailure.nonRetryable(`${taskId}: cache policy must be one of ${CACHE_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`, 'InvalidInput');
  const args = userTaskArgs(definition, ctx);
  const inputs = args && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : { args };
  const inputFile = settings.inputFile === undefined ? undefined : render(settings.inputFile, ctx);
  const cache = { policy: policy as CachePolicy, expiresInMs: msToNumber(settings.expiresIn as Duration) };
  return cached(taskId, cache, inputs, inputFile, ctx.conf.refresh_cache === true, async () => {
    const result = (await tries()) as FileRef;
    if (typeof result?.path !== 'string' || typeof result?.bytes !== 'number')
      throw ApplicationFailure.nonRetryable(
        `${taskId}: a cached task returns a file reference { path, bytes }, got ${JSON.stringify(result)}`,
        'InvalidOutput',
      );
    return result;
  });
}

const isSkip = (result: unknown): result is { skipped: unknown } => !!result && typeof result === 'object' && 'skipped' in result;

/** Branches and short circuits settle what follows them once they succeed. */
function afterSuccess(dag: CompiledDag, task: CompiledTask, result: unknown, run: DagRunContext, { kept = false } = {}): void {
  if (task.definition.operator === 'branch') {
    const chosen = (result as { follow: string[] }).follow;
    // A kept branch (a cleared run) skips again only what is to run again.
    run.tasks.skip(...task.downstream.filter((d) => !chosen.includes(d) && (!kept || run.tasks.state(d) === 'scheduled')));
  }
  if (task.definition.operator === 'approval') {
    // A rejection skips what follows directly (Airflow's ApprovalOperator); a choice, the options not chosen.
    const answer = result as ApprovalResult;
    const follows = (id: string) => answer.approved && (answer.chosen === undefined || answer.chosen.includes(id));
    run.tasks.skip(...task.downstream.filter((d) => !follows(d) && run.tasks.state(d) === 'scheduled'));
  }
  if (task.definition.operator === 'shortCircuit' && (result as { condition: boolean }).condition === false) {
    run.tasks.skip(...descendants(dag, task).filter((id) => run.tasks.state(id) === 'scheduled'));
  }
}

/** Every task downstream of `task`, directly or not, from the compiled graph. */
function descendants(dag: CompiledDag, task: CompiledTask): string[] {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const found = new Set<string>();
  const visit = (t: CompiledTask) => {
    for (const id of t.downstream) {
      if (found.has(id)) continue;
      found.add(id);
      visit(byId.get(id)!);
    }
  };
  visit(task);
  return [...found];
}

/** The task's options over the DAG's default_args, with the worker's overrides (tests, chaos). */
function taskOptions(dag: CompiledDag, task: TaskDefinition, settings: RunSettings): ResolvedOptions {
  const args = { ...dag.file.defaultArgs, ...stripUndefined(task) } as TaskDefinition & { retries?: number };
  const delay = (settings.retryDelay ?? args.retryDelay ?? dag.definition.defaultArgs.retryDelay) as Duration;
  return {
    attempts: settings.maximumAttempts ?? (args.retries ?? dag.definition.defaultArgs.retries) + 1,
    delayMs: msToNumber(delay),
    backoff: args.retryExponentialBackoff ?? false,
    maxDelayMs: args.maxRetryDelay ? msToNumber(args.maxRetryDelay as Duration) : 24 * 3_600_000,
    timeout: (args.executionTimeout ?? '1h') as Duration,
    ...(args.priorityWeight !== undefined ? { priorityWeight: args.priorityWeight } : {}),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * An error of the DAG's own code in the workflow (a template naming what is not there, a branch
 * function that throws) fails the task for good: thrown as it is, it would stall the run.
 */
function asFailure(err: unknown): never {
  if (err instanceof TemporalFailure) throw err;
  throw ApplicationFailure.nonRetryable((err as Error)?.message ?? String(err), (err as Error)?.name ?? 'Error');
}

function isNonRetryable(err: unknown): boolean {
  for (let e = err as { nonRetryable?: boolean; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.nonRetryable) return true;
  return false;
}

/** An output is XCom: small, JSON. */
function checkOutput(taskId: string, result: unknown): unknown {
  const overflow = xcomOverflow(result);
  if (overflow) throw ApplicationFailure.nonRetryable(`${taskId}: its output is ${overflow}`, 'XComTooLarge');
  return result ?? {};
}

/** The task table's view of an output: its scalar fields, strings cut short. */
function summary(result: unknown): Record<string, string | number> {
  // A list (what a task is mapped over, a mapped task's outputs): its length.
  if (Array.isArray(result)) return { items: result.length };
  if (!result || typeof result !== 'object') return result === undefined || result === null ? {} : { value: String(result).slice(0, 200) };
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === 'number') out[key] = value;
    else if (typeof value === 'string' || typeof value === 'boolean') out[key] = String(value).slice(0, 200);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value.join(',').slice(0, 200);
  }
  return out;
}

const mailTo = (dag: CompiledDag): TaskCallback | undefined =>
  dag.definition.defaultArgs.email.length ? { notify: dag.definition.defaultArgs.email } : undefined;

/** A task callback; its own failure is logged, never the task's. */
async function callback(dag: CompiledDag, run: DagRunContext, taskId: string, target: TaskCallback | undefined, event: { event: string; message: string }) {
  if (!target) return;
  try {
    if ('notify' in target) {
      await alerts.sendAlert.executeWithOptions({ summary: `${taskId}: on_${event.event} mail` }, [
        {
          dagId: dag.dagId,
          ds: run.key,
          to: [...target.notify],
          subject: `[${dag.dagId}] ${run.key} ${taskId}: ${event.event}`,
          body: `task ${taskId}: ${event.message}`,
        },
      ]);
    } else {
      const acts = proxyActivities<Record<string, (input: unknown) => Promise<unknown>>>({ startToCloseTimeout: '5m', retry: { maximumAttempts: 3 } });
      await acts[userActivityType(dag.dagId, target.task)]({ dagId: dag.dagId, taskId, ds: run.ds, attempt: 1, args: event });
    }
  } catch (err) {
    log.warn(`on_${event.event} callback of ${taskId} failed`, { error: rootMessage(err) });
  }
}
