/**
 * The reference pipelines' definitions, from their DAG files, for the tests that start their
 * runs (the catalog makes the same from the DAGs folder).
 */
import { dagDefinitionOf } from '../../src/sdk/compile';
import type { DagDefinition } from '../../src/dags';
import ordersEtlFile from '../../workflows/dags/orders-etl/dag';
import ordersDailyEtlFile from '../../workflows/dags/orders_daily_etl/dag';

/** orders_daily_etl (workflows/dags/orders_daily_etl/dag.ts). */
export const ordersDailyEtlDag: DagDefinition = dagDefinitionOf(ordersDailyEtlFile);

/** orders-etl, the Prefect flow (workflows/dags/orders-etl/dag.ts). */
export const ordersEtlFlow: DagDefinition = dagDefinitionOf(ordersEtlFile);
