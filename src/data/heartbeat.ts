import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

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

/** The activity's cancellation, as the error Temporal expects a cancelled activity to throw. */
export function cancelledError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('activity cancelled');
}

/** The activity's cancellation signal, or one that never fires outside an activity. */
export function cancellationSignal(): AbortSignal {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return new AbortController().signal;
  }
}

/** Names the step a long activity is in, and how far it is, for its heartbeats. */
export interface Progress {
  /** Names the step the activity is in now, and heartbeats it. */
  step(name: string): void;
  /** How far the current step is, in percent, when it can tell. */
  percent?: () => number | undefined;
}

function heartbeatNow(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (a script): nothing to keep alive.
  }
}

/**
 * Heartbeats `{ step, percent }` while the activity works, and once more at each new step
 * (the SDK throttles what it sends), so the history shows where a slow call spends its time.
 */
export function tracked<T>(work: (progress: Progress) => Promise<T>): Promise<T> {
  let current = 'start';
  const details = () => ({ step: current, percent: progress.percent?.() });
  const progress: Progress = {
    step: (name) => {
      current = name;
      heartbeatNow(details());
    },
  };
  return whileHeartbeating(work(progress), details);
}
