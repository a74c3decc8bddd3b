/**
 * orders_daily_etl under a definition of the benchmarks' own (scenario backfill): its own dag
 * id, so its runs and slot keeper never mix with the real DAG's, and max_active_runs 4. Pure
 * data: imported by the bench workflow bundle and by the scenario.
 */
import { ordersDailyEtlDag, type DagDefinition } from '../src/dags';

export const benchOrdersDag: DagDefinition = {
  ...ordersDailyEtlDag,
  dagId: 'bench_orders',
  workflowType: 'benchOrdersDailyEtl',
  description: 'orders_daily_etl in the backfill benchmark: max_active_runs 4',
  maxActiveRuns: 4,
  tags: ['bench', 'orders'],
  // A failed run is a finding of the benchmark: no retries 5 minutes apart to hide it, no mail.
  defaultArgs: { ...ordersDailyEtlDag.defaultArgs, email: [], emailOnFailure: false, retries: 0 },
};
