import { Context } from '@temporalio/activity';

/**
 * Keeps a long activity alive: heartbeats every `everyMs` with `details()` while `work` runs.
 * Outside an activity (a script calling the function directly) it only runs `work`.
 */
export async function whileHeartbeating<T>(
  work: Promise<T>,
  details: () => unknown = () => undefined,
  everyMs = 5_000,
): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return work;
  }
  const active = ctx;
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
