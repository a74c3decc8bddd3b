/**
 * orders_daily_etl under a policy of the benchmarks' own (scenario backfill): its own dag id,
 * so its runs and slot keeper never mix with the real DAG's, and max_active_runs 4. Pure data:
 * imported by the bench workflow bundle and by the scenario.
 */
import { ordersDailyEtlDag } from '../src/dags';
import type { DagPolicy } from '../workflows/dag';

export const BENCH_ORDERS_WORKFLOW = 'benchOrdersDailyEtl';

export const benchOrdersPolicy: DagPolicy = {
  ...ordersDailyEtlDag,
  dagId: 'bench_orders',
  description: 'orders_daily_etl under the backfill benchmark: max_active_runs 4',
  maxActiveRuns: 4,
  tags: ['bench'],
  // A failed run is a finding of the benchmark: no retries 5 minutes apart to hide it, no mail.
  defaultArgs: { ...ordersDailyEtlDag.defaultArgs, email: [], emailOnFailure: false, retries: 0 },
};
