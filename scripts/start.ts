/**
 * `npm start`: set up and start everything, sync the schedules, run the DAG on a sample file
 * and print its outcome and its Web UI address. Safe to run again at any time.
 */
import path from 'node:path';
import { Pool } from 'pg';
import type { OrdersPipelineResult } from '../workflows/dags/orders-etl/contract';
import { findInCatalog, loadCatalog } from '../src/dag-catalog';
import { describeResult, startRun, triggerRun, waitForRun } from '../src/runs';
import { generateOrders, seedSourceOrders } from './sample-orders';
import { startProject } from '../src/start';

const SAMPLE = { ds: '2024-01-15', rows: 1000, badRate: 0.02, seed: 20240115 };

async function main(): Promise<void> {
  const say = (line: string) => console.log(`baton: ${line}`);
  // The demo's source database (conn_id postgres_prod) is the warehouse's `source` schema unless set.
  const { platform, config, client, consoleUrl } = await startProject(say, (workerUrl) => ({
    BATON_CONN_POSTGRES_PROD: process.env.BATON_CONN_POSTGRES_PROD ?? workerUrl,
  }));
  const sourceUrl = process.env.BATON_CONN_POSTGRES_PROD ?? platform.databaseUrl;
  const catalog = loadCatalog();
  const ordersDailyEtlDag = findInCatalog(catalog, 'orders_daily_etl');
  const ordersEtlFlow = findInCatalog(catalog, 'orders-etl');
  if (!ordersDailyEtlDag || !ordersEtlFlow) throw new Error(`the sample DAGs orders_daily_etl and orders-etl are not in ${config.project.dagsDir}`);
  try {
    const sample = await generateOrders({ ...SAMPLE, file: path.join(config.dataDir, 'raw', `orders_${SAMPLE.ds}.csv`) });
    say(`sample file ${path.relative(process.cwd(), sample.file)}: ${sample.rows} rows, ${sample.badRows} bad`);
    // The same day in the demo source database, for runs with { "source": "db" }.
    const source = new Pool({ connectionString: sourceUrl, max: 1 });
    const seeded = await seedSourceOrders(source, { ds: SAMPLE.ds, rows: SAMPLE.rows, badRate: SAMPLE.badRate }).finally(() => source.end());
    say(`sample rows in source.orders (conn_id postgres_prod) for ${SAMPLE.ds}: ${seeded.rows} rows, ${seeded.badRows} bad`);
    const run = await triggerRun(client, config, ordersDailyEtlDag, SAMPLE.ds);
    say(`running ${run.workflowId} ...`);
    const result = await waitForRun(client, run);
    for (const line of describeResult(result, run)) console.log(line);
    // The Prefect flow orders-etl on the same file: CSV to clean Parquet.
    const flowRun = await startRun(client, config, ordersEtlFlow, SAMPLE.ds);
    say(`running ${flowRun.workflowId} ...`);
    for (const line of describeResult(await waitForRun<OrdersPipelineResult>(client, flowRun), flowRun)) console.log(line);

    console.log(`\nBaton console: ${consoleUrl}`);
    console.log(`Temporal Web UI: ${config.webUiUrl}`);
    console.log(`This run: ${run.url}`);
    console.log(`\nFrom the database source instead of the file:`);
    console.log(`  npx baton trigger orders_daily_etl --ds ${SAMPLE.ds} --conf '{"source": "db"}' --wait`);
    console.log(`The flow again, past its cache:`);
    console.log(`  npx baton run orders-etl --start-date ${SAMPLE.ds} --refresh-cache --wait`);
  } finally {
    await client.connection.close();
  }
}

main().catch((err: Error) => {
  console.error(`baton: npm start failed: ${err.message}`);
  process.exit(1);
});
