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
import { dag, ownTasks, result, z } from 'baton/sdk';

const own = ownTasks<typeof import('./activities')>();

export default dag(
  {
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
  },
  ({ ds, params }) => {
    const target = `orders_${ds}`;
    const extracted = own.extractOrders('extract_data', {
      doc: `read raw/orders_${ds}.csv with DuckDB`,
      args: { startDate: ds },
      cache: { expiresIn: '1h', policy: `${params.cache_policy}`, inputFile: `raw/orders_${ds}.csv` },
      summary: (r) => ({ rows: r.rows }),
    });
    const transformed = own.transformOrders('transform_data', {
      doc: 'drop rows without order_id, amount to DOUBLE',
      args: { input: extracted, target },
      summary: (r) => ({ kept: r.kept, dropped: r.dropped, rejected: r.rejected }),
    });
    const loaded = own.loadOrders('load_data', {
      doc: `write processed/orders_${ds}.parquet`,
      args: { input: transformed.clean, target },
      summary: (r) => ({ rows: r.rows, file: r.path }),
    });
    return result({ output: loaded, transformed }, ({ output, transformed }, run) => ({
      state: 'success',
      flow: 'orders-etl',
      startDate: run.ds,
      target: `orders_${run.ds}`,
      output,
      rejects: transformed.rejects,
      rowsIn: transformed.rowsIn,
      kept: transformed.kept,
      dropped: transformed.dropped,
      rejected: transformed.rejected,
      cache: { extract_data: run.cached.extract_data },
    }));
  },
);
