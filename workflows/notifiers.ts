/**
 * A DAG file's notifiers and deadlines in its run. Notifiers (the DAG's and each task's) are told
 * of the events they chose: webhooks through the `notifyWebhook` activity, mail through the alert
 * mail. A deadline is a durable timer: a run (or a task) still going when it fires alerts once,
 * naming where the run is and how late it is; the timer and the alert are in the run's history,
 * so a worker restart or a replay neither loses nor repeats it. Deterministic.
 */
import { CancellationScope, isCancellation, log, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BackfillMemo, NotifierEvent } from '../src/contracts';
import type { CompiledDag } from '../src/sdk/compile';
import { deadlineAlert, deadlineAt } from '../src/deadlines';
import type { Notifier } from '../src/sdk/types';
import type { DagRunContext } from './dag';
import { rootMessage } from './task-table';

/** Notifier calls: a few tries over about a minute, whatever the DAG's own retry policy. */
const notifying = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 4, initialInterval: '2s', backoffCoefficient: 3 },
});

export interface NotifierDetail {
  taskId?: string;
  state: string;
  message: string;
  error?: string;
}

/** Whose notifiers an event goes to: the task's, the DAG's, or both (a retry, an approval waiting). */
export type NotifierScope = 'task' | 'dag' | 'both';

/** The run's notify: the task's notifiers for a task's event, and the DAG's for the events it chose. */
export function notifierOf(dag: CompiledDag, run: DagRunContext) {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  return async (event: NotifierEvent, detail: NotifierDetail, to: NotifierScope = 'both'): Promise<void> => {
    const own = detail.taskId && to !== 'dag' ? (byId.get(detail.taskId)?.definition.notifiers ?? []) : [];
    const targets = [...own, ...(to !== 'task' ? (dag.file.notifiers ?? []) : [])].filter((n) => n.on.includes(event));
    await CancellationScope.nonCancellable(() => Promise.all(targets.map((target) => send(dag, run, target, event, detail))));
  };
}

async function send(dag: CompiledDag, run: DagRunContext, target: Notifier, event: NotifierEvent, detail: NotifierDetail): Promise<void> {
  const where = `${run.key}${detail.taskId ? ` ${detail.taskId}` : ''}`;
  try {
    if ('webhook' in target) {
      await notifying.notifyWebhook.executeWithOptions({ summary: `${event} to webhook ${target.webhook}` }, [
        {
          conn: target.webhook,
          event,
          dagId: dag.dagId,
          ds: run.ds,
          ...(run.key !== run.ds ? { ts: run.key } : {}),
          ...(detail.taskId ? { taskId: detail.taskId } : {}),
          state: detail.state,
          message: detail.message,
          ...(detail.error !== undefined ? { error: detail.error } : {}),
        },
      ]);
    } else {
      await notifying.sendAlert.executeWithOptions({ summary: `${event} mail to ${target.email.join(', ')}` }, [
        {
          dagId: dag.dagId,
          ds: run.key,
          to: [...target.email],
          subject: `[${dag.dagId}] ${where}: ${event}`,
          body: `${detail.message}${detail.error ? `\n\n${detail.error}` : ''}`,
        },
      ]);
    }
  } catch (err) {
    // A notifier that cannot be reached is logged; it never fails the run.
    log.warn(`${event} notifier failed`, { target: 'webhook' in target ? `webhook ${target.webhook}` : 'mail', error: rootMessage(err) });
  }
}

/**
 * Watches the run's deadlines (the DAG's and its tasks') until the run settles: each that falls
 * while what it covers is unfinished alerts once. A backfilled run (catch-up by design), a
 * continued one and a test run watch none. Returns a function that stops the watch.
 */
export function watchDeadlines(dag: CompiledDag, run: DagRunContext, notify: ReturnType<typeof notifierOf>): () => void {
  const { backfill } = (workflowInfo().memo ?? {}) as Partial<BackfillMemo>;
  const watched = [
    ...(dag.file.deadline ? [{ deadline: dag.file.deadline, taskId: undefined as string | undefined }] : []),
    ...dag.tasks.filter((t) => t.definition.deadline).map((t) => ({ deadline: t.definition.deadline!, taskId: t.taskId as string | undefined })),
  ];
  // A continued run (a clear, a mark, a rerun) is an operator's: its deadline was the first execution's to watch.
  if (!watched.length || backfill || run.test || run.clear) return () => undefined;
  const scope = new CancellationScope();
  const one = async ({ deadline, taskId }: (typeof watched)[number]) => {
    const at = deadlineAt(deadline, run.interval, workflowInfo().runStartTime.getTime());
    if (at > Date.now()) await sleep(at - Date.now());
    const message = deadlineAlert(deadline, at, Date.now(), run.tasks.list(), taskId);
    if (!message) return;
    log.warn('deadline passed', { taskId, message });
    run.tasks.note(`deadline passed: ${message}`);
    await notify('deadline', { ...(taskId ? { taskId } : {}), state: 'running', message }, taskId ? 'task' : 'dag');
  };
  scope
    .run(() => Promise.all(watched.map(one)))
    .catch((err) => {
      if (!isCancellation(err)) throw err;
    });
  return () => scope.cancel();
}
