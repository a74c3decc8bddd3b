/**
 * orders_daily_etl's DAG file under a definition of the benchmarks' own (scenario backfill): its
 * own dag id, so its runs and slot keeper never mix with the real DAG's, and max_active_runs 4.
 * Its tasks are orders_daily_etl's own, registered by the bench worker under this dag id. Pure
 * data: imported by the bench workflow bundle and by the scenario.
 */
import { dagDefinitionOf } from '../src/sdk/compile';
import type { DagDefinition } from '../src/dags';
import ordersDailyEtlFile from '../workflows/dags/orders_daily_etl/dag';

export const benchOrdersFile: typeof ordersDailyEtlFile = {
  ...ordersDailyEtlFile,
  dagId: 'bench_orders',
  workflowType: 'benchOrdersDailyEtl',
  description: 'orders_daily_etl in the backfill benchmark: max_active_runs 4',
  maxActiveRuns: 4,
  tags: ['bench', 'orders'],
  // A failed run is a finding of the benchmark: no retries 5 minutes apart to hide it, no mail.
  defaultArgs: { ...ordersDailyEtlFile.defaultArgs, email: [], emailOnFailure: false, retries: 0 },
};

export const benchOrdersDag: DagDefinition = dagDefinitionOf(benchOrdersFile);
