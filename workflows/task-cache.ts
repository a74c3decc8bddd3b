/**
 * A task's cache, as Prefect's cache_key_fn and cache_expiration: a task whose output is a file
 * reference is served from baton.task_cache while its entry lives, keyed on its inputs (and, by
 * default, its input file's content, so a changed file is never served). Used by the DAG engine
 * for tasks with `cache`.
 */
import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CachePolicy, CacheStatus, FileRef } from '../src/contracts';

export interface TaskCache {
  policy: CachePolicy;
  expiresInMs: number;
}

const cache = proxyActivities<Activities>({ startToCloseTimeout: '5m', heartbeatTimeout: '1m', retry: { maximumAttempts: 5 } });

/**
 * Runs a task through its cache: a hit returns the stored file reference without running it;
 * a miss, an expired entry, a vanished file or a refresh runs it and stores the result.
 * Each outcome is the lookup's result in the history and a line in the run's log.
 */
export async function cached(
  task: string,
  policy: TaskCache,
  inputs: Record<string, unknown>,
  inputFile: string | undefined,
  refresh: boolean,
  run: () => Promise<FileRef>,
): Promise<{ result: FileRef; status: CacheStatus }> {
  const now = Date.now();
  const lookup = await cache.cacheLookup.executeWithOptions({ summary: `cache: look up ${task} (${policy.policy})` }, [
    { task, policy: policy.policy, inputs, ...(inputFile !== undefined ? { inputFile } : {}), now, refresh },
  ]);
  if (lookup.status === 'hit' && lookup.result) {
    log.info(`${task}: cache hit (key ${lookup.key.slice(0, 12)}, stored ${lookup.storedAt}, expires ${lookup.expiresAt})`);
    return { result: lookup.result, status: 'hit' };
  }
  log.info(`${task}: cache ${lookup.status}${lookup.reason ? ` (${lookup.reason})` : ''}: running it`);
  const result = await run();
  if (lookup.key) {
    await cache.cacheStore.executeWithOptions({ summary: `cache: store ${task} for ${policy.expiresInMs / 60_000} min` }, [
      { key: lookup.key, task, policy: policy.policy, inputs, result, now: Date.now(), expiresInMs: policy.expiresInMs },
    ]);
  }
  return { result, status: lookup.status };
}
