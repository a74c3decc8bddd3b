/**
 * How the DAG toolkit calls activities: one proxy per retry profile (run settings and
 * bookkeeping, alert mails) and a data task's options from the DAG's default_args.
 */
import type { Duration } from '@temporalio/common';
import { proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunSettings } from '../src/contracts';
import type { DefaultArgs } from '../src/dags';

/** Worker-side settings, read once per run through a local activity (so they land in history). */
export const control = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });
/** Bookkeeping with Temporal itself (run statuses, slot requests): retried until it gets through. */
export const bookkeeping = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } });
/** Alert mails: a few quick tries, whatever the DAG's own retry policy. */
export const alerts = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3 } });

/** default_args `retries=2, retry_delay=5m` as a Temporal retry policy: 3 attempts, fixed 5 minutes apart. */
export function retryPolicyFor(args: DefaultArgs, settings: RunSettings): RetryPolicy {
  const interval = (settings.retryDelay ?? args.retryDelay) as Duration;
  return {
    maximumAttempts: settings.maximumAttempts ?? args.retries + 1,
    initialInterval: interval,
    maximumInterval: interval,
    backoffCoefficient: 1,
  };
}

/**
 * A data task heartbeats several times per heartbeat timeout; after the timeout without one
 * (its worker died), Temporal starts it again on another worker.
 */
export const DATA_TASK_HEARTBEAT_TIMEOUT = '30s';

/** The proxy for a DAG's data tasks: its default_args' retries, the data-task heartbeat, two hours at most a try by default. */
export function dataTasks(args: DefaultArgs, settings: RunSettings, { startToCloseTimeout = '2h' as Duration } = {}) {
  return proxyActivities<Activities>({
    startToCloseTimeout,
    heartbeatTimeout: (settings.heartbeatTimeout ?? DATA_TASK_HEARTBEAT_TIMEOUT) as Duration,
    retry: retryPolicyFor(args, settings),
  });
}
