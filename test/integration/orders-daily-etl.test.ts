/**
 * orders_daily_etl end to end, as a user runs it: the real worker process, the Temporal dev
 * server, Postgres and dbt; runs started from the Temporal CLI and from the client.
 * With BATON_RECORD_HISTORIES=1 it saves the histories the replay tier replays.
 */
import assert from '../support/assert';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun, waitForRun } from '../../src/runs';
import { generateOrders, seedSourceOrders } from '../../scripts/sample-orders';
import { expectedPartition, partition, temporalCli, saveHistory, integrationPlatform } from '../support';

const platform = integrationPlatform();
const { config, pool } = platform;

const rawFile = (ds: string) => path.join(config.dataDir, 'raw', `orders_${ds}.csv`);

test('10,000 generated rows started from the Temporal CLI load exactly; a rerun doubles nothing', async () => {
  const ds = '2031-03-01';
  const seed = await generateOrders({ ds, rows: 10_000, badRate: 0.0137, seed: 310301, file: rawFile(ds) });
  assert.equal(seed.badRows, 137);
  const workflowId = `orders_daily_etl-${ds}`;

  const started = JSON.parse(
    await temporalCli([
      'workflow',
      'start',
      '--task-queue',
      'etl',
      '--type',
      'ordersDailyEtl',
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ ds }),
      '--output',
      'json',
    ]),
  ) as { runId: string };
  const result = (await platform.client.workflow.getHandle(workflowId, started.runId).result()) as OrdersDailyEtlResult;
  assert.equal(result.state, 'success');
  assert.deepEqual([result.rowCount, result.loadedRows, result.rejectedRows], [10_000, seed.expectedLoaded, 137]);
  assert.deepEqual(
    result.models.map((m) => `${m.model}:${m.status}`),
    ['stg_orders:success', 'daily_revenue:success'],
  );
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
  await saveHistory(workflowId, started.runId, 'ordersDailyEtl-happy-v5.json');

  // A rerun of the same ds (the client path, as the CLI and npm start take) replaces, never appends.
  const rerun = await triggerRun(platform.client, config, ordersDailyEtlDag, ds);
  assert.notEqual(rerun.runId, started.runId);
  const again = await waitForRun<OrdersDailyEtlResult>(platform.client, rerun);
  assert.deepEqual([again.rowCount, again.loadedRows, again.rejectedRows], [10_000, seed.expectedLoaded, 137]);
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
});

test('alphanumeric ids (ORD-<n>, C-<n>) with 70 bad rows load exactly, through dbt to daily_revenue', async () => {
  const ds = '2031-03-09';
  const seed = await generateOrders({ ds, rows: 5_000, badRate: 0.014, seed: 310309, file: rawFile(ds), alphanumericIds: true });
  assert.equal(seed.badRows, 70);
  const result = await waitForRun<OrdersDailyEtlResult>(platform.client, await triggerRun(platform.client, config, ordersDailyEtlDag, ds));
  assert.equal(result.state, 'success');
  assert.deepEqual([result.rowCount, result.loadedRows, result.rejectedRows], [5_000, seed.expectedLoaded, 70]);
  assert.deepEqual(await partition(pool, ds), expectedPartition(seed));
  const { rows } = await pool.query<{ ids: string; customers: string; lines: string }>(
    `SELECT count(*) FILTER (WHERE order_id LIKE 'ORD-%') AS ids, count(*) FILTER (WHERE customer_id LIKE 'C-%') AS customers,
            sum(source_lines) AS lines
     FROM warehouse.orders WHERE ds = $1`,
    [ds],
  );
  assert.deepEqual(rows[0], { ids: String(seed.expectedLoaded), customers: String(seed.expectedLoaded), lines: String(seed.expectedLoaded) });
  const stg = await pool.query<{ n: string }>('SELECT count(*) AS n FROM analytics_dev.stg_orders WHERE ds = $1 AND order_key = ds::text || $2 || order_id', [
    ds,
    ':',
  ]);
  assert.equal(Number(stg.rows[0].n), seed.expectedLoaded);
});

test('a header-only file takes the empty branch and ends with skips', async () => {
  const ds = '2031-03-02';
  await mkdir(path.dirname(rawFile(ds)), { recursive: true });
  await writeFile(rawFile(ds), 'order_id,customer_id,order_date,amount,status\n');
  const run = await triggerRun(platform.client, config, ordersDailyEtlDag, ds);
  const result = await waitForRun<OrdersDailyEtlResult>(platform.client, run);
  assert.equal(result.state, 'success_with_skips');
  assert.deepEqual(
    result.tasks.map((t) => `${t.taskId}:${t.state}`),
    [
      'choose_source:success',
      'wait_for_file:success',
      'extract:success',
      'wait_for_data:skipped',
      'extract_from_db:skipped',
      'check_data:success',
      'transform:skipped',
      'load:skipped',
      'validate:skipped',
      'dbt_run:skipped',
      'send_empty_alert:success',
    ],
  );
  assert.match(platform.worker.output(), /"msg":"alert: \[orders_daily_etl\] no orders for 2031-03-02"/);
  await saveHistory(run.workflowId, run.runId, 'ordersDailyEtl-empty-v5.json');
});

test('a file that never comes times wait_for_file out, naming the file; the tasks table shows where', async () => {
  const ds = '2031-03-03';
  await rm(rawFile(ds), { force: true });
  const run = await triggerRun(platform.client, config, ordersDailyEtlDag, ds);
  const started = Date.now();
  await assert.rejects(waitForRun(platform.client, run), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    // The test runner shortens the sensor to poke every 1 s and time out after 3 s.
    assert.match(
      err.cause?.message ?? '',
      new RegExp(`^task wait_for_file failed: sensor timed out after 3s and \\d+ checks: raw/orders_${ds}\\.csv does not exist yet$`),
    );
    return true;
  });
  assert.ok(Date.now() - started < 30_000, 'non-retryable: no retry delay');
  const tasks = await platform.client.workflow.getHandle(run.workflowId, run.runId).query<{ taskId: string; state: string }[]>('tasks');
  assert.deepEqual(tasks.map((t) => `${t.taskId}:${t.state}`).slice(0, 6), [
    'choose_source:success',
    'wait_for_file:failed',
    'extract:upstream_failed',
    'wait_for_data:skipped',
    'extract_from_db:skipped',
    'check_data:upstream_failed',
  ]);
});

test('source "db" from the Temporal CLI: wait_for_data finds the day in source.orders on postgres_prod, and it loads exactly', async () => {
  const ds = '2031-03-04';
  const seeded = await seedSourceOrders(pool, { ds, rows: 5000, badRate: 0.01 });
  assert.equal(seeded.badRows, 50);
  const workflowId = `orders_daily_etl-${ds}`;
  const started = JSON.parse(
    await temporalCli([
      'workflow',
      'start',
      '--task-queue',
      'etl',
      '--type',
      'ordersDailyEtl',
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ ds, conf: { source: 'db' } }),
      '--output',
      'json',
    ]),
  ) as { runId: string };
  const result = (await platform.client.workflow.getHandle(workflowId, started.runId).result()) as OrdersDailyEtlResult;
  assert.equal(result.state, 'success');
  assert.deepEqual([result.rowCount, result.loadedRows, result.rejectedRows], [5000, 4950, 50]);
  assert.deepEqual(
    result.tasks.map((t) => `${t.taskId}:${t.state}`),
    [
      'choose_source:success',
      'wait_for_file:skipped',
      'extract:skipped',
      'wait_for_data:success',
      'extract_from_db:success',
      'check_data:success',
      'transform:success',
      'load:success',
      'validate:success',
      'dbt_run:success',
      'send_empty_alert:skipped',
    ],
  );
  const { rows } = await pool.query<{ loaded: string; revenue: string; source: string }>(
    `SELECT (SELECT count(*) FROM warehouse.orders WHERE ds = $1)::text AS loaded,
            (SELECT revenue FROM analytics_dev.daily_revenue WHERE ds = $1)::text AS revenue,
            (SELECT sum(amount) FROM (SELECT DISTINCT ON (order_id) order_id, amount FROM source.orders
              WHERE "date" = $1 AND order_id IS NOT NULL AND amount >= 0 AND status IS NOT NULL ORDER BY order_id, customer_id, amount, status) AS firsts)::text AS source`,
    [ds],
  );
  assert.deepEqual(rows[0], { loaded: '4950', revenue: rows[0].source, source: rows[0].source });
  await saveHistory(workflowId, started.runId, 'ordersDailyEtl-db-v5.json');
});

test('an invalid ds from the Temporal CLI fails before any task, naming the value', async () => {
  const workflowId = 'orders_daily_etl-bad';
  const started = JSON.parse(
    await temporalCli([
      'workflow',
      'start',
      '--task-queue',
      'etl',
      '--type',
      'ordersDailyEtl',
      '--workflow-id',
      workflowId,
      '--input',
      '{"ds":"2024-02-30"}',
      '--output',
      'json',
    ]),
  ) as { runId: string };
  await assert.rejects(platform.client.workflow.getHandle(workflowId, started.runId).result(), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.cause?.message, 'orders_daily_etl: ds "2024-02-30" is not a real calendar date');
    return true;
  });
});
