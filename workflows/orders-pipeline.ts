/**
 * The Prefect flow `orders-etl`, ported:
 *   extract_data(start_date) >> transform_data(df) >> load_data(df, target=f"orders_{start_date}")
 * Tasks hand each other file references (path, rows, content hash); DuckDB moves the data.
 * extract_data keeps Prefect's retries=2 and cache (1 hour), keyed by default on its inputs
 * and its input file's content, so a changed file is never served from the cache.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  CACHE_POLICIES,
  DEFAULT_START_DATE,
  type CachePolicy,
  type CacheStatus,
  type FileRef,
  type OrdersPipelineInput,
  type OrdersPipelineResult,
} from '../src/contracts';
import { ordersEtlFlow as flow } from '../src/dags';
import { parseDs } from '../src/logical-date';
import { chain, runDag } from './dag';
import { dataTasks } from './task-options';

/** How long raw/orders_<startDate>.csv must be still before extract_data reads it. */
const FILE_SETTLE = '5s';

const TASKS = chain('extract_data', 'transform_data', 'load_data');

/** A task's cache, as Prefect's cache_key_fn and cache_expiration. */
export interface TaskCache {
  policy: CachePolicy;
  expiresInMs: number;
}
export const EXTRACT_CACHE: TaskCache = { policy: 'inputs+file', expiresInMs: 60 * 60 * 1000 };

const cache = proxyActivities<Activities>({ startToCloseTimeout: '5m', heartbeatTimeout: '1m', retry: { maximumAttempts: 5 } });

export async function ordersPipeline(input: OrdersPipelineInput = {}): Promise<OrdersPipelineResult> {
  const startDate = flowStartDate(input);
  const extractCache = { ...EXTRACT_CACHE, policy: cachePolicy(input) };
  const target = `orders_${startDate}`;
  return runDag(flow, { ds: startDate }, TASKS, async ({ tasks, settings }) => {
    // retries=2: 3 attempts, 10 s apart (BATON_RETRY_DELAY/ATTEMPTS override, as for the DAGs). A file
    // briefly unreadable recovers; a permanent problem (a missing column) fails at once, non-retryable.
    const files = dataTasks(flow.defaultArgs, settings, { startToCloseTimeout: '1h' });
    log.info(`orders-etl: processing ${startDate} into processed/${target}.parquet`);
    // Like wait_for_file, extract_data reads the file only once it has been still for the settle time.
    const settleSeconds = msToNumber((settings.fileSettle ?? FILE_SETTLE) as Duration) / 1000;

    const { result: extracted, status } = await tasks.run(
      'extract_data',
      () =>
        cached('extract_data', extractCache, { startDate }, `raw/orders_${startDate}.csv`, Boolean(input.refreshCache), () =>
          files.extractOrders.executeWithOptions({ summary: `extract_data: read raw/orders_${startDate}.csv with DuckDB` }, [{ startDate, settleSeconds }]),
        ),
      (r) => ({ rows: r.result.rows, cache: r.status }),
    );
    const transformed = await tasks.run(
      'transform_data',
      () =>
        files.transformOrders.executeWithOptions({ summary: `transform_data: drop rows without order_id, amount to DOUBLE (${extracted.rows} rows)` }, [
          { input: extracted, target },
        ]),
      (r) => ({ kept: r.kept, dropped: r.dropped, rejected: r.rejected }),
    );
    const loaded = await tasks.run(
      'load_data',
      () => files.loadOrders.executeWithOptions({ summary: `load_data: write processed/${target}.parquet` }, [{ input: transformed.clean, target }]),
      (r) => ({ rows: r.rows, file: r.path }),
    );
    log.info(`Loaded ${loaded.rows} rows to ${target}`);

    return {
      flow: 'orders-etl',
      startDate,
      target,
      output: loaded,
      rejects: transformed.rejects,
      rowsIn: transformed.rowsIn,
      kept: transformed.kept,
      dropped: transformed.dropped,
      rejected: transformed.rejected,
      cache: { extract_data: status },
      tasks: tasks.list(),
    };
  });
}

/**
 * Runs a task through its cache: a hit returns the stored file reference without running it;
 * a miss, an expired entry, a vanished file or --refresh-cache runs it and stores the result.
 * Each outcome is the lookup's result in the history and a line in the flow's log.
 */
async function cached(
  task: string,
  policy: TaskCache,
  inputs: Record<string, unknown>,
  inputFile: string,
  refresh: boolean,
  run: () => Promise<FileRef>,
): Promise<{ result: FileRef; status: CacheStatus }> {
  const now = Date.now();
  const lookup = await cache.cacheLookup.executeWithOptions({ summary: `cache: look up ${task} (${policy.policy})` }, [
    { task, policy: policy.policy, inputs, inputFile, now, refresh },
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

function cachePolicy(input: OrdersPipelineInput): CachePolicy {
  const policy = input.cachePolicy ?? EXTRACT_CACHE.policy;
  if (!CACHE_POLICIES.includes(policy)) {
    throw ApplicationFailure.nonRetryable(`orders-etl: cachePolicy must be one of ${CACHE_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`, 'InvalidInput');
  }
  return policy;
}

/** The flow's parameter, checked before anything runs: a real date, so never a path. */
function flowStartDate(input: OrdersPipelineInput): string {
  if (input === null || typeof input !== 'object')
    throw ApplicationFailure.nonRetryable('orders-etl: the input must be an object such as {"startDate": "2024-06-01"}', 'InvalidInput');
  const value = input.startDate ?? input.ds ?? DEFAULT_START_DATE;
  try {
    return parseDs(value);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`orders-etl: startDate ${(err as Error).message.replace(/^ds /, '')}`, 'InvalidStartDate');
  }
}
