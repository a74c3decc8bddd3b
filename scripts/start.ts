/**
 * `npm start`: set up and start everything, sync the schedules, run the DAG on a sample file
 * and print its outcome and its Web UI address. Safe to run again at any time.
 */
import path from 'node:path';
import { Pool } from 'pg';
import { connectClient } from '../src/client';
import { loadConfig, loadServiceSettings } from '../src/config';
import type { OrdersPipelineResult } from '../src/contracts';
import { loadCatalog } from '../src/dag-catalog';
import { ordersDailyEtlDag, ordersEtlFlow } from '../src/dags';
import { startPlatform, workerDatabaseUrl } from '../src/platform';
import { describeResult, startRun, triggerRun, waitForRun } from '../src/runs';
import { syncSchedules } from '../src/schedules';
import { generateOrders, seedSourceOrders } from '../src/seed';
import { withLock, WorkerProcess } from '../src/platform';

const SAMPLE = { ds: '2024-01-15', rows: 1000, badRate: 0.02, seed: 20240115 };

async function main(): Promise<void> {
  const say = (line: string) => console.log(`baton: ${line}`);
  const settings = loadServiceSettings();
  const platform = await startPlatform(settings, say);
  // The worker connects on its own least-privilege role (activities/sql/worker-role.sql).
  const workerUrl = await workerDatabaseUrl(platform, 'baton', platform.databaseUrl);
  // The demo's source database (conn_id postgres_prod) is the warehouse's `source` schema unless set.
  const sourceUrl = process.env.BATON_CONN_POSTGRES_PROD ?? platform.databaseUrl;
  const workerEnv = { ...process.env, DATABASE_URL: workerUrl, BATON_CONN_POSTGRES_PROD: process.env.BATON_CONN_POSTGRES_PROD ?? workerUrl };
  const config = loadConfig(workerEnv);
  say(`Postgres ${settings.externalDatabaseUrl ? '(DATABASE_URL)' : `on 127.0.0.1:${settings.pgPort}`}, Temporal on ${config.temporal.address}`);

  const worker = new WorkerProcess(settings);
  const state = await withLock(path.join(settings.home, 'worker.lock'), 'a worker start', say, () => worker.ensure(workerEnv));
  say(`worker ${state} (log: ${path.relative(process.cwd(), worker.logFile)})`);

  const client = await connectClient(config);
  try {
    const { dags } = loadCatalog();
    const synced = await syncSchedules(client, dags);
    for (const dag of dags) {
      const outcome = synced.outcomes[dag.dagId];
      const paused = outcome === 'created' && dag.pausedOnCreation ? ` paused (\`baton unpause ${dag.dagId}\` starts it)` : '';
      say(`schedule ${dag.dagId} (${dag.schedule} ${dag.timezone}): ${outcome}${paused}`);
    }
    for (const id of synced.removed) say(`schedule ${id} has no DAG in code any more; \`baton schedules sync --prune\` deletes it`);

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

    console.log(`\nWeb UI: ${config.webUiUrl}`);
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
