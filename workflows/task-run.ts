/**
 * One task of a DAG file's run (the engine's step, workflows/engine.ts): its tries with the
 * task's retries and backoff, its cache, its callbacks and notifiers, its output checked as XCom,
 * and what a branch, short circuit or approval decides for what follows. Deterministic.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { ApplicationFailure, isCancellation, log, proxyActivities, sleep, TemporalFailure } from '@temporalio/workflow';
import { CACHE_POLICIES, type CachePolicy, type FileRef, type RunSettings } from '../src/contracts';
import type { UserTask } from '../src/operators/task/definition';
import { userTaskArgs } from '../src/operators/task/step';
import { userActivityType, xcomOverflow, type CompiledDag, type CompiledTask } from '../src/sdk/compile';
import { render } from '../src/sdk/templates';
import type { RunContext, TaskCallback, TaskDefinition } from '../src/sdk/types';
import type { ApprovalResult } from './approvals';
import { announceOutlets } from './assets';
import { rootMessage, type DagRunContext } from './dag';
import { mappedTask } from './mapped';
import { runOperator, type ResolvedOptions } from './operator-steps';
import { cached } from './task-cache';
import { alerts } from './task-options';

/** One task, with its retries and callbacks; its failure is recorded in the table, never thrown. */
export async function runTask(
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
      run.tasks.tried(task.taskId, attempt);
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
export function afterSuccess(dag: CompiledDag, task: CompiledTask, result: unknown, run: DagRunContext, { kept = false } = {}): void {
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
export function asFailure(err: unknown): never {
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
