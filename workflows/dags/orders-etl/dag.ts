/**
 * The Prefect flow `orders-etl` as a Baton DAG file:
 *   extract_data(start_date) >> transform_data(df) >> load_data(df, target=f"orders_{start_date}")
 * Tasks hand each other file references (path, rows, content hash); DuckDB moves the data
 * (activities.ts beside this file). extract_data keeps Prefect's retries=2 and its cache
 * (1 hour), keyed by default on its inputs and its input file's content, so a changed file is
 * never served from the cache.
 *
 *   baton run orders-etl --start-date 2024-06-01 [--refresh-cache] [--cache-policy inputs]
 */
import { dag, task, z, type RunContext } from '../../../src/sdk';
import type { FileRef } from '../../../src/contracts';
import type { TransformOrdersResult } from '../../../activities/duckdb/orders-etl';

const target = (run: RunContext) => `orders_${run.ds}`;
const transformed = (run: RunContext) => run.xcom.transform_data as TransformOrdersResult;

export default dag({
  dagId: 'orders-etl',
  workflowType: 'ordersPipeline',
  description: 'Orders CSV to clean Parquet (the Prefect flow orders-etl)',
  schedule: '0 7 * * *',
  startDate: '2024-01-01',
  catchup: false,
  maxActiveRuns: null,
  tags: ['prefect', 'orders', 'parquet'],
  params: z.object({
    /** `inputs+file` (the default) or `inputs` (Prefect's task_input_hash). */
    cache_policy: z.enum(['inputs', 'inputs+file']).default('inputs+file'),
  }),
  // Prefect's retries=2: 3 attempts, 10 s apart. A file briefly unreadable recovers; a permanent
  // problem (a missing column) fails at once, non-retryable.
  defaultArgs: { owner: 'data-team', retries: 2, retryDelay: '10s', executionTimeout: '1h' },
  tasks: {
    extract_data: task({
      activity: 'extractOrders',
      doc: 'read raw/orders_{{ ds }}.csv with DuckDB',
      args: { startDate: '{{ ds }}' },
      cache: { expiresIn: '1h', policy: '{{ params.cache_policy }}', inputFile: 'raw/orders_{{ ds }}.csv' },
      summary: (r: FileRef) => ({ rows: r.rows }),
    }),
    transform_data: task({
      upstream: ['extract_data'],
      activity: 'transformOrders',
      doc: 'drop rows without order_id, amount to DOUBLE',
      args: (run) => ({ input: run.xcom.extract_data, target: target(run) }),
      summary: (r: TransformOrdersResult) => ({ kept: r.kept, dropped: r.dropped, rejected: r.rejected }),
    }),
    load_data: task({
      upstream: ['transform_data'],
      activity: 'loadOrders',
      doc: 'write processed/orders_{{ ds }}.parquet',
      args: (run) => ({ input: transformed(run).clean, target: target(run) }),
      summary: (r: FileRef) => ({ rows: r.rows, file: r.path }),
    }),
  },
  result: (run) => ({
    state: 'success',
    flow: 'orders-etl',
    startDate: run.ds,
    target: target(run),
    output: run.xcom.load_data,
    rejects: transformed(run).rejects,
    rowsIn: transformed(run).rowsIn,
    kept: transformed(run).kept,
    dropped: transformed(run).dropped,
    rejected: transformed(run).rejected,
    cache: { extract_data: run.cached.extract_data },
  }),
});
