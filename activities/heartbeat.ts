import { Context } from '@temporalio/activity';

/**
 * Keeps a long activity alive: heartbeats with `details()` while `work` runs, every 5 s or a
 * quarter of the activity's heartbeat timeout if that is shorter. Outside an activity (a
 * script calling the function directly) it only runs `work`.
 */
export async function whileHeartbeating<T>(work: Promise<T>, details: () => unknown = () => undefined): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return work;
  }
  const active = ctx;
  const everyMs = Math.max(100, Math.min(5_000, (active.info.heartbeatTimeoutMs || 20_000) / 4));
  active.heartbeat(details());
  const timer = setInterval(() => active.heartbeat(details()), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** The activity's cancellation signal, or one that never fires outside an activity. */
export function cancellationSignal(): AbortSignal {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return new AbortController().signal;
  }
}
