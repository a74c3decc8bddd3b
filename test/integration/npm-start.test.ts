/**
 * `npm start` and `npm stop` as a user runs them, on a platform of their own (own home folder,
 * Postgres port, Temporal and Web UI ports): the first start sets up everything and prints the
 * sample run; a second start reinstalls nothing and restarts what died; stop ends it all.
 */
import assert from '../support/assert';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, test } from '@jest/globals';
import { Connection } from '@temporalio/client';
import { loadServiceSettings } from '../../src/config';
import { isAlive, LocalPostgres } from '../../src/platform';
import { execFileAsync, repoRoot, tempDir } from '../support';

let home = '';
const ports = { pg: 54339, temporal: 7243, ui: 8243, console: 8293 };

async function env(): Promise<NodeJS.ProcessEnv> {
  if (!home) home = await tempDir('baton-start-');
  const { DATABASE_URL: _db, BATON_CONN_POSTGRES_PROD: _source, TEMPORAL_NAMESPACE: _ns, BATON_DATA_DIR: _data, ...rest } = process.env;
  return {
    ...rest,
    BATON_HOME: home,
    BATON_DATA_DIR: path.join(home, 'data'),
    BATON_PG_PORT: String(ports.pg),
    TEMPORAL_ADDRESS: `localhost:${ports.temporal}`,
    BATON_UI_PORT: String(ports.ui),
    BATON_CONSOLE_PORT: String(ports.console),
  };
}

async function npm(script: 'start' | 'stop'): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync('npm', [script, '--silent'], { cwd: repoRoot, env: await env(), timeout: 480_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    assert.fail(`npm ${script} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** A Baton pid file holds `<pid> <start time>`. */
const pidOf = async (file: string) => Number((await readFile(path.join(home, file), 'utf8')).trim().split(/\s+/)[0]);

afterAll(async () => {
  if (!home) return;
  const cluster = new LocalPostgres(loadServiceSettings(await env()));
  await npm('stop').catch(() => undefined);
  await rm(cluster.clusterDir, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

test('npm start on a fresh home sets up everything and prints the sample run and its Web UI link', async () => {
  const out = await npm('start');
  for (const expected of [
    `baton: creating a Postgres cluster in ${new LocalPostgres(loadServiceSettings(await env())).dataDir}`,
    `baton: starting the Temporal dev server on localhost:${ports.temporal} (Web UI on port ${ports.ui})`,
    'baton: worker started',
    'baton: schedule orders_daily_etl (0 6 * * * UTC): created',
    'baton: schedule orders-etl (0 7 * * * UTC): created',
    'baton: schedule approval_example (0 7 * * * UTC): created paused (`baton unpause approval_example` starts it)',
    'baton: schedule customers_example (0 5 * * * UTC): created paused (`baton unpause customers_example` starts it)',
    'baton: schedule fan_in_example (@daily UTC): created paused (`baton unpause fan_in_example` starts it)',
    'baton: schedule fiscal_calendar_example (@daily UTC): created',
    'baton: schedule mapped_example (@daily UTC): created paused (`baton unpause mapped_example` starts it)',
    'baton: sample file',
    'baton: sample rows in source.orders (conn_id postgres_prod) for 2024-01-15: 1000 rows, 20 bad',
    'orders_daily_etl 2024-01-15: success',
    '  load success: loadedRows 980, rejectedRows 20',
    '  dbt_run success: stg_orders success, daily_revenue success',
    'orders-etl 2024-01-15: success',
    '  extract_data success: rows 1000, cache miss',
    '  transform_data success: kept 991, dropped 3, rejected 6',
    '  load_data success: rows 991, file processed/orders_2024-01-15.parquet',
    `baton: console started on http://127.0.0.1:${ports.console}`,
    `Baton console: http://127.0.0.1:${ports.console}`,
    `Temporal Web UI: http://localhost:${ports.ui}`,
    `This run: http://localhost:${ports.ui}/namespaces/default/workflows/orders_daily_etl-2024-01-15/`,
  ]) {
    assert.ok(out.includes(expected), `missing ${JSON.stringify(expected)} in:\n${out}`);
  }
  // The console answers with the DAGs, and the sample run's cells, read from its memo.
  const dags = await (await fetch(`http://127.0.0.1:${ports.console}/dags`)).text();
  assert.match(dags, /<a href="\/dags\/orders_daily_etl">orders_daily_etl<\/a>/);
  const grid = await (await fetch(`http://127.0.0.1:${ports.console}/dags/orders_daily_etl`)).text();
  assert.match(grid, /aria-label="dbt_run 2024-01-15: success"/);
});

test('npm start again reuses what runs and restarts a killed worker and a stopped server', async () => {
  process.kill(await pidOf('worker.pid'), 'SIGKILL');
  process.kill(await pidOf('temporal/server.pid'), 'SIGTERM');
  while (isAlive(await pidOf('temporal/server.pid'))) await new Promise((r) => setTimeout(r, 200));

  const out = await npm('start');
  assert.ok(!out.includes('installing'), out);
  assert.ok(!out.includes('creating a Postgres cluster'), out);
  assert.ok(out.includes(`baton: starting the Temporal dev server on localhost:${ports.temporal}`), out);
  assert.ok(out.includes('baton: worker started'), out);
  assert.ok(out.includes(`baton: console running on http://127.0.0.1:${ports.console}`), out);
  assert.ok(out.includes('baton: schedule orders_daily_etl (0 6 * * * UTC): unchanged'), out);
  assert.ok(out.includes('  extract_data success: rows 1000, cache hit'), out);
  assert.ok(out.includes('  load success: loadedRows 980, rejectedRows 20'), out);

  // The dev server kept its database file: both sample runs are in its history.
  const connection = await Connection.connect({ address: `localhost:${ports.temporal}` });
  try {
    const { executions } = await connection.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: "WorkflowId = 'orders_daily_etl-2024-01-15'",
    });
    assert.equal(executions?.length, 2);
  } finally {
    await connection.close();
  }
});

test('npm stop stops what npm start started', async () => {
  const worker = await pidOf('worker.pid');
  const consolePid = await pidOf('console.pid');
  const server = await pidOf('temporal/server.pid');
  const cluster = new LocalPostgres(loadServiceSettings(await env()));
  const postgres = Number((await readFile(path.join(cluster.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const out = await npm('stop');
  assert.ok(out.includes('baton: stopped the console'), out);
  assert.ok(out.includes('baton: stopped the worker'), out);
  assert.ok(out.includes('baton: stopped the Temporal dev server'), out);
  assert.ok(out.includes('baton: stopped Postgres'), out);
  assert.deepEqual([isAlive(consolePid), isAlive(worker), isAlive(server), isAlive(postgres)], [false, false, false, false]);
});
