/**
 * The workflow type ordersPipeline. Its runs are the DAG file workflows/dags/orders-etl/ on the
 * DAG engine, with the flow's parameters checked here first; runs started before that finish on
 * the hand-written workflow below, which stays for them:
 *
 * The Prefect flow `orders-etl`, ported:
 *   extract_data(start_date) >> transform_data(df) >> load_data(df, target=f"orders_{start_date}")
 * Tasks hand each other file references (path, rows, content hash); DuckDB moves the data.
 * extract_data keeps Prefect's retries=2 and cache (1 hour), keyed by default on its inputs
 * and its input file's content, so a changed file is never served from the cache.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { ApplicationFailure, log, patched } from '@temporalio/workflow';
import { CACHE_POLICIES, DEFAULT_START_DATE, WorkflowTypes, type CachePolicy, type OrdersPipelineInput, type OrdersPipelineResult } from '../src/contracts';
import { ordersEtlFlow as flow } from '../src/dags';
import { parseDs } from '../src/logical-date';
import { chain, runDag } from './dag';
import { registeredDag } from './dag-registry';
import { runDagFile } from './engine';
import { dataTasks } from './task-options';
import { cached, type TaskCache } from './task-cache';

/** How long raw/orders_<startDate>.csv must be still before extract_data reads it. */
const FILE_SETTLE = '5s';

const TASKS = chain('extract_data', 'transform_data', 'load_data');

export const EXTRACT_CACHE: TaskCache = { policy: 'inputs+file', expiresInMs: 60 * 60 * 1000 };

export async function ordersPipeline(input: OrdersPipelineInput = {}): Promise<OrdersPipelineResult> {
  if (!patched('orders-etl-dag-file')) return handWritten(input);
  const startDate = flowStartDate(input);
  const conf = { cache_policy: cachePolicy(input), ...(input.refreshCache ? { refresh_cache: true } : {}) };
  const dag = registeredDag(WorkflowTypes.ordersPipeline);
  if (!dag) throw ApplicationFailure.nonRetryable('the DAG file workflows/dags/orders-etl/dag.ts is not in this bundle', 'UnknownDag');
  return (await runDagFile(dag, { ds: startDate, conf })) as unknown as OrdersPipelineResult;
}

async function handWritten(input: OrdersPipelineInput): Promise<OrdersPipelineResult> {
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
