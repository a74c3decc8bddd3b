/**
 * The flow orders-etl end to end, as a user runs it: the real worker process, dev server,
 * Postgres cache and DuckDB; started from the Temporal CLI, then again from `baton run`, which
 * the cache answers. The Parquet file is read back with DuckDB. With
 * BATON_RECORD_HISTORIES=1 it saves the histories the replay tier replays.
 */
import assert from '../support/assert';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { DuckDBInstance } from '@duckdb/node-api';
import { migrateWarehouse } from '../../activities/warehouse';
import type { OrdersPipelineResult } from '../../workflows/dags/orders-etl/contract';
import { generateOrders } from '../../scripts/sample-orders';
import { execFileAsync, repoRoot, temporalCli, saveHistory, integrationPlatform } from '../support';

const platform = integrationPlatform({ worker: false });
const { config, pool } = platform;
const startDate = '2031-05-01';

beforeAll(async () => {
  await migrateWarehouse(pool);
  // This file owns its date: start with no cached result for it.
  await pool.query("DELETE FROM baton.task_cache WHERE inputs->>'startDate' = $1", [startDate]);
  await platform.startWorker();
});

/** Reads a Parquet file back with DuckDB: row count, schema, null order_ids, amount type. */
async function readParquet(file: string) {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const quoted = `'${file.replace(/'/g, "''")}'`;
    const schema = (await connection.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${quoted}))`)).getRows();
    const [[rows, nullIds, amountType]] = (
      await connection.runAndReadAll(
        `SELECT count(*)::INTEGER, count(*) FILTER (WHERE order_id IS NULL)::INTEGER, any_value(typeof(amount)) FROM read_parquet(${quoted})`,
      )
    ).getRows();
    return { rows, nullIds, amountType, schema: schema.map(([name, type]) => `${name} ${type}`) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

test('10,000 rows from the Temporal CLI: clean Parquet with the documented schema, every dropped and rejected row counted', async () => {
  const seed = await generateOrders({
    ds: startDate,
    rows: 10_000,
    badRate: 0.01,
    seed: 310501,
    file: path.join(config.dataDir, 'raw', `orders_${startDate}.csv`),
  });
  const workflowId = `orders-etl-${startDate}`;
  const started = JSON.parse(
    await temporalCli([
      'workflow',
      'start',
      '--task-queue',
      'etl',
      '--type',
      'ordersPipeline',
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ ds: startDate }),
      '--output',
      'json',
    ]),
  ) as { runId: string };
  const result = (await platform.client.workflow.getHandle(workflowId, started.runId).result()) as OrdersPipelineResult;

  // Prefect's transform: rows without order_id are dropped; a non-numeric amount (and a malformed record) is rejected.
  const dropped = seed.byKind.missing_order_id;
  const rejected = seed.byKind.amount_not_a_number + seed.byKind.missing_column;
  assert.deepEqual(
    { rowsIn: result.rowsIn, kept: result.kept, dropped: result.dropped, rejected: result.rejected, cache: result.cache.extract_data },
    { rowsIn: 10_000, kept: 10_000 - dropped - rejected, dropped, rejected, cache: 'miss' },
  );
  assert.deepEqual(await readParquet(path.join(config.dataDir, result.output.path)), {
    rows: 10_000 - dropped - rejected,
    nullIds: 0,
    amountType: 'DOUBLE',
    schema: ['order_id VARCHAR', 'customer_id VARCHAR', 'order_date VARCHAR', 'amount DOUBLE', 'status VARCHAR', 'source_line BIGINT'],
  });
  const rejects = (await readFile(path.join(config.dataDir, result.rejects.path), 'utf8')).trim().split('\n');
  assert.equal(rejects.length, 1 + rejected);
  assert.equal(rejects.filter((line) => /amount 'twelve' is not a number/.test(line)).length, seed.byKind.amount_not_a_number);

  // log_prints: the task's line carries its workflow and run ids.
  const loadedLine = platform.worker
    .output()
    .split('\n')
    .find((line) => line.includes(`"msg":"Loaded ${result.kept} rows to orders_${startDate}"`));
  assert.ok(loadedLine, platform.worker.output());
  assert.equal(JSON.parse(loadedLine).workflowId, workflowId);
  assert.equal(JSON.parse(loadedLine).runId, started.runId);
  await saveHistory(workflowId, started.runId, 'ordersPipeline-miss-v3.json');
});

test('baton run orders-etl again: extract is a cache hit and the output is the same file', async () => {
  const before = (await platform.client.workflow.getHandle(`orders-etl-${startDate}`).result()) as OrdersPipelineResult;
  const { stdout } = await execFileAsync(
    process.execPath,
    [path.join(repoRoot, 'scripts', 'baton.js'), 'run', 'orders-etl', '--start-date', startDate, '--wait', '--json'],
    { cwd: repoRoot },
  );
  const run = JSON.parse(stdout) as { workflowId: string; runId: string; result: OrdersPipelineResult };
  assert.equal(run.workflowId, `orders-etl-${startDate}`);
  assert.equal(run.result.cache.extract_data, 'hit');
  assert.equal(run.result.output.sha256, before.output.sha256);
  // The flow's own log line, from the workflow logger (written once the workflow task completes).
  const hitLine =
    /"workflowId":"orders-etl-[0-9-]+","runId":"([0-9a-f-]+)","workflowType":"ordersPipeline","msg":"extract_data: cache hit \(key [0-9a-f]{12}, stored /;
  for (let i = 0; i < 50 && !hitLine.test(platform.worker.output()); i++) await new Promise((r) => setTimeout(r, 200));
  assert.equal(hitLine.exec(platform.worker.output())?.[1], run.runId);
  await saveHistory(run.workflowId, run.runId, 'ordersPipeline-hit-v3.json');

  const text = await execFileAsync(process.execPath, [path.join(repoRoot, 'scripts', 'baton.js'), 'run', 'orders-etl', '--start-date', '2024-02-30'], {
    cwd: repoRoot,
  }).catch((err: { code: number; stderr: string }) => err);
  assert.equal((text as { code: number }).code, 2);
  assert.match((text as { stderr: string }).stderr, /--start-date "2024-02-30" is not a real calendar date/);
});

test('orders-etl is scheduled from code like the DAGs: its schedule starts ordersPipeline, and a backfill runs it by date', async () => {
  const baton = (args: string[]) => execFileAsync(process.execPath, [path.join(repoRoot, 'scripts', 'baton.js'), ...args], { cwd: repoRoot });
  await baton(['schedules', 'sync']);
  const schedule = await platform.client.schedule.getHandle('orders-etl').describe();
  assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'scheduledDagRun');
  assert.deepEqual(schedule.action.type === 'startWorkflow' && schedule.action.args, [
    {
      dagId: 'orders-etl',
      workflowType: 'ordersPipeline',
      schedule: '0 7 * * *',
      timezone: 'UTC',
      timetable: 'interval',
      startDate: '2024-01-01',
      catchup: false,
    },
  ]);

  // A backfill of the date passes it as ds, as schedules do; the cache still answers extract.
  const { stdout } = await baton(['backfill', 'orders-etl', '--from', startDate, '--to', startDate, '--rerun', 'all', '--json']);
  assert.deepEqual((({ succeeded, failed }) => ({ succeeded, failed }))(JSON.parse(stdout) as { succeeded: number; failed: number }), {
    succeeded: 1,
    failed: 0,
  });
  const result = (await platform.client.workflow.getHandle(`orders-etl-${startDate}`).result()) as OrdersPipelineResult;
  assert.deepEqual([result.startDate, result.cache.extract_data], [startDate, 'hit']);
});
