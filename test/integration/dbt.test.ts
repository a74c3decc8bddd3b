/**
 * orders_daily_etl's dbt_run task (its context's dbt) with the real dbt and Postgres: model statuses from run_results.json,
 * dbt's own error text on failure, the process killed on cancellation, and the project's
 * data tests passing.
 */
import assert from '../support/assert';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { dbtEnvironment } from '../../activities/dbt';
import * as ordersTasks from '../../workflows/dags/orders_daily_etl/activities';
import { execFileAsync, quietLogger, repoRoot, tempDir, integrationPlatform, mockActivityEnv } from '../support';
import { boundTasks } from '../support/own-tasks';

const { config, pool } = integrationPlatform({ worker: false });
const DAG_FOLDER = path.join(repoRoot, 'workflows', 'dags', 'orders_daily_etl');

/** A copy of the DAG's dbt project in a folder of its own: the DAG folder the task is given. */
async function projectCopy(): Promise<string> {
  const dir = path.join(await tempDir('baton-dbt-project-'), 'dbt');
  await cp(path.join(DAG_FOLDER, 'dbt'), dir, { recursive: true, filter: (src) => !/\/(target|logs)$/.test(src) });
  return dir;
}

/** dbt_run with the DAG's project at `projectDir` (its folder's dbt/). */
function dbtWith(projectDir: string) {
  // dbt builds as the worker does, on its role: the worker owns the models (worker-role.sql).
  const workerConfig = { ...config, databaseUrl: process.env.BATON_WORKER_DATABASE_URL ?? config.databaseUrl, dbt: { ...config.dbt, target: 'dev' as const } };
  return boundTasks(ordersTasks, { dagId: 'orders_daily_etl', folder: path.dirname(projectDir), pool, config: workerConfig, logger: quietLogger });
}

test('dbt run --select tag:orders builds both models and reports each one', async () => {
  const { dbtRun } = dbtWith(path.join(DAG_FOLDER, 'dbt'));
  const result = (await mockActivityEnv().run(dbtRun, { ds: '2031-03-01', select: 'tag:orders' })) as Awaited<ReturnType<typeof dbtRun>>;
  assert.deepEqual(
    result.models.map((m) => [m.model, m.status]),
    [
      ['stg_orders', 'success'],
      ['daily_revenue', 'success'],
    ],
  );
  const { rows } = await pool.query(
    "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'analytics_dev' ORDER BY table_name",
  );
  assert.deepEqual(rows, [
    { table_schema: 'analytics_dev', table_name: 'daily_revenue', table_type: 'BASE TABLE' },
    { table_schema: 'analytics_dev', table_name: 'stg_orders', table_type: 'VIEW' },
  ]);
});

test("the project's data tests pass on what the pipeline loaded", async () => {
  const { stdout } = await execFileAsync(
    config.dbt.bin,
    [
      'test',
      '--select',
      'tag:orders',
      '--target',
      'dev',
      '--project-dir',
      path.join(DAG_FOLDER, 'dbt'),
      '--profiles-dir',
      config.dbt.projectDir,
      '--target-path',
      await tempDir(),
      '--no-use-colors',
    ],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false', ...dbtEnvironment(config.databaseUrl) } },
  );
  assert.match(stdout, /Done\. PASS=10 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=10/);
});

test("a broken model fails non-retryably with dbt's own error text", async () => {
  const dir = await projectCopy();
  await writeFile(path.join(dir, 'models', 'marts', 'daily_revenue.sql'), "select ds, count(*) as orders from {{ ref('stg_orders') }} group by\n");
  const { dbtRun } = dbtWith(dir);
  await assert.rejects(mockActivityEnv().run(dbtRun, { ds: '2031-03-01', select: 'tag:orders' }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'DbtModelFailed');
    assert.equal(err.nonRetryable, true);
    assert.match(
      err.message,
      /^dbt run --select tag:orders --target dev exited 1: daily_revenue error: Database Error in model daily_revenue .*syntax error at or near "\)"/s,
    );
    return true;
  });
});

test('cancelling the activity kills dbt', async () => {
  const dir = await projectCopy();
  await writeFile(path.join(dir, 'models', 'marts', 'slow.sql'), "{{ config(tags=['slow']) }}\nselect 1 as x from pg_sleep(120)\n");
  const { dbtRun } = dbtWith(dir);
  const env = mockActivityEnv();
  const started = Date.now();
  const running = env.run(dbtRun, { ds: '2031-03-01', select: 'tag:slow' });
  // Wait until dbt is really running the model, then cancel.
  while (!(await dbtProcesses(dir)).length) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 2000));
  env.cancel();
  await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure || /cancel/i.test(String(err)));
  assert.ok(Date.now() - started < 60_000);
  assert.deepEqual(await dbtProcesses(dir), []);
});

/** Live processes whose command line mentions `marker`. */
async function dbtProcesses(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker) && cmdline.includes('dbt')) pids.push(Number(entry));
  }
  return pids;
}
