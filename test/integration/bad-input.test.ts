/**
 * The bad-input corpus (test/fixtures/bad/, and a single 10 MB line made here) through both
 * pipelines on the real worker. Each file either loads with every bad row rejected with its
 * line and reason (rows in = loaded + rejected, or kept + dropped + rejected for the flow), or
 * fails at once (one attempt: non-retryable) with an error naming the file, the line and the
 * problem. Either way the day's previous state stays whole until a complete new one replaces
 * it: the warehouse partition for orders_daily_etl, the Parquet file for orders-etl.
 *
 * The two pipelines judge rows by their own rules: orders_daily_etl (the Airflow DAG) checks
 * every field and reads columns by position after a strict header check; orders-etl (the
 * Prefect flow) reads columns by name and keeps Prefect's rules: rows without order_id are
 * dropped, an amount that is not a number is rejected, nothing else is judged.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { migrateWarehouse } from '../../activities/postgres';
import { connectClient } from '../../src/client';
import type { OrdersDailyEtlResult, OrdersPipelineResult } from '../../src/contracts';
import { ordersDailyEtlDag, ordersEtlFlow } from '../../src/dags';
import { runFlow, triggerRun } from '../../src/runs';
import { generateOrders } from '../../src/seed';
import { attemptsOf, repoRoot, startWorkerProcess, testConfig, testPool, type RunningWorker } from '../support';

const DS = '2099-03-01';
const config = testConfig();
const pool = testPool(config);
const rawFile = path.join(config.dataDir, 'raw', `orders_${DS}.csv`);
const parquet = path.join(config.dataDir, 'processed', `orders_${DS}.parquet`);
let client: Client;
let worker: RunningWorker;

before(async () => {
  await migrateWarehouse(pool);
  client = await connectClient(config);
  worker = await startWorkerProcess();
  await mkdir(path.dirname(rawFile), { recursive: true });
});
after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await pool.end();
});

/** What a file should do: load with these rejects (line: reason), or fail with this error. */
type Daily = { loaded: number; rejects: string[] } | { fails: RegExp } | { empty: true };
type Flow = { kept: number; dropped: number; rejects: Array<string | RegExp> } | { fails: RegExp };

const header = (found: string) => new RegExp(`^task extract failed: ${rawFile}: line 1: wrong header: expected "order_id,customer_id,order_date,amount,status", found ${found}$`);
const CORPUS: Record<string, { daily: Daily; flow: Flow }> = {
  'empty.csv': { daily: { fails: header('\\(empty file\\)') }, flow: { fails: new RegExp(`^task extract_data failed: ${rawFile} is empty: not even a header$`) } },
  'header-only.csv': { daily: { empty: true }, flow: { kept: 0, dropped: 0, rejects: [] } },
  'wrong-header.csv': {
    daily: { fails: header('"id,customer,date,total,state"') },
    flow: { fails: new RegExp(`^task extract_data failed: ${rawFile}: missing columns order_id, customer_id, order_date, amount, status; expected order_id,customer_id,order_date,amount,status$`) },
  },
  'reordered-header.csv': { daily: { fails: header('"customer_id,order_id,order_date,amount,status"') }, flow: { kept: 1, dropped: 0, rejects: [] } },
  'missing-column.csv': { daily: { loaded: 2, rejects: ['3: expected 5 fields, found 4'] }, flow: { kept: 2, dropped: 0, rejects: ['3: expected 5 fields, found 4'] } },
  'extra-column.csv': { daily: { loaded: 2, rejects: ['3: expected 5 fields, found 6'] }, flow: { kept: 2, dropped: 0, rejects: ['3: expected 5 fields, found 6'] } },
  'quoted-commas-newlines.csv': { daily: { loaded: 3, rejects: [] }, flow: { kept: 3, dropped: 0, rejects: [] } },
  'crlf.csv': { daily: { loaded: 2, rejects: [] }, flow: { kept: 2, dropped: 0, rejects: [] } },
  'utf8-bom.csv': { daily: { loaded: 2, rejects: [] }, flow: { kept: 2, dropped: 0, rejects: [] } },
  'invalid-utf8.csv': { daily: { loaded: 2, rejects: ['3: not valid UTF-8'] }, flow: { kept: 2, dropped: 0, rejects: ['3: not valid UTF-8'] } },
  'nul-bytes.csv': { daily: { loaded: 2, rejects: ['3: contains a NUL byte'] }, flow: { kept: 2, dropped: 0, rejects: ['3: contains a NUL byte'] } },
  'non-numeric-amounts.csv': {
    daily: { loaded: 1, rejects: ["3: amount 'twelve' is not a number", "4: amount '1e3' is not a number", '5: missing amount'] },
    flow: { kept: 3, dropped: 0, rejects: ["3: amount 'twelve' is not a number"] },
  },
  'negative-amounts.csv': { daily: { loaded: 2, rejects: ['3: amount -7.25 is negative'] }, flow: { kept: 3, dropped: 0, rejects: [] } },
  'huge-amounts.csv': {
    daily: {
      loaded: 1,
      rejects: [
        '3: amount 123456789012.00 is out of range (at most 10 digits and 2 decimals)',
        '4: amount 99999999999999999999999999999999999999999 is out of range (at most 10 digits and 2 decimals)',
        '5: amount 1.999 is out of range (at most 10 digits and 2 decimals)',
      ],
    },
    flow: { kept: 4, dropped: 0, rejects: [] },
  },
  'wrong-dates.csv': {
    daily: {
      loaded: 1,
      rejects: [`3: order_date 2099-03-02 is not the run's date ${DS}`, `4: order_date 2099-02-30 is not the run's date ${DS}`, "5: order_date '03/01/2099' is not a date (YYYY-MM-DD)"],
    },
    flow: { kept: 4, dropped: 0, rejects: [] },
  },
  'duplicate-ids.csv': { daily: { loaded: 2, rejects: ['4: duplicate order_id 1 (first at line 2)', '5: duplicate order_id 2 (first at line 3)'] }, flow: { kept: 4, dropped: 0, rejects: [] } },
  'missing-ids.csv': { daily: { loaded: 2, rejects: ['3: missing order_id', '4: missing order_id'] }, flow: { kept: 2, dropped: 2, rejects: [] } },
  'long-line.csv': { daily: { loaded: 2, rejects: ['3: status is 10485760 characters long, more than 32'] }, flow: { kept: 2, dropped: 0, rejects: [/^3: DuckDB could not parse the record: Maximum line size of 2000000 bytes exceeded\. Actual Size:10485785 bytes\.$/] } },
};

/** The corpus file into the day's raw file; the 10 MB line is made here rather than kept in git. */
async function placeInput(name: string): Promise<void> {
  if (name === 'long-line.csv') {
    await writeFile(rawFile, `order_id,customer_id,order_date,amount,status\n1,10,${DS},12.50,shipped\n2,11,${DS},7.25,${'x'.repeat(10 << 20)}\n3,12,${DS},3.00,shipped\n`);
  } else {
    await copyFile(path.join(repoRoot, 'test', 'fixtures', 'bad', name), rawFile);
  }
}

/** The day's partition as readers see it: every row, in order. */
async function warehouseDay(): Promise<string> {
  const { rows } = await pool.query(
    `SELECT (SELECT coalesce(json_agg(o ORDER BY order_id), '[]') FROM (SELECT order_id, customer_id, amount, status, source_line FROM warehouse.orders WHERE ds = $1) o)::text AS orders,
            (SELECT coalesce(json_agg(r ORDER BY line), '[]') FROM (SELECT line, reason FROM warehouse.orders_rejected WHERE ds = $1) r)::text AS rejected`,
    [DS],
  );
  return JSON.stringify(rows[0]);
}

const parquetState = async () => (await stat(parquet).catch(() => undefined)) ? (await readFile(parquet)).toString('base64') : 'absent';

async function failsAtOnce(workflowId: string, runId: string, promise: Promise<unknown>, message: RegExp, activity: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.match(err.cause?.message ?? '', message);
    return true;
  });
  assert.deepEqual((await attemptsOf(client, workflowId, runId))[activity], [1], `${activity} was not retried: the error is non-retryable`);
}

test('a good day first: the state each bad file must leave whole when it fails', async () => {
  await generateOrders({ ds: DS, rows: 50, badRate: 0, seed: 9903, file: rawFile });
  const daily = (await client.workflow.getHandle((await triggerRun(client, config, ordersDailyEtlDag, DS, { skip_dbt: true })).workflowId).result()) as OrdersDailyEtlResult;
  assert.equal(daily.loadedRows, 50);
  const flow = (await client.workflow.getHandle((await runFlow(client, config, ordersEtlFlow, DS, { refreshCache: true })).workflowId).result()) as OrdersPipelineResult;
  assert.equal(flow.kept, 50);
});

for (const [name, expected] of Object.entries(CORPUS)) {
  test(`bad input ${name}: orders_daily_etl and orders-etl`, async () => {
    await placeInput(name);

    const dayBefore = await warehouseDay();
    const daily = await triggerRun(client, config, ordersDailyEtlDag, DS, { skip_dbt: true });
    const dailyResult = client.workflow.getHandle(daily.workflowId, daily.runId).result() as Promise<OrdersDailyEtlResult>;
    if ('fails' in expected.daily) {
      await failsAtOnce(daily.workflowId, daily.runId, dailyResult, expected.daily.fails, 'extract');
      assert.equal(await warehouseDay(), dayBefore, 'the partition is as it was');
    } else if ('empty' in expected.daily) {
      const result = await dailyResult;
      assert.deepEqual([result.state, result.rowCount], ['success_with_skips', 0]);
      assert.equal(await warehouseDay(), dayBefore, 'an empty day replaces nothing (send_empty_alert instead)');
    } else {
      const result = await dailyResult;
      assert.equal(result.state, 'success');
      assert.equal(result.rowCount, result.loadedRows + result.rejectedRows, 'rows in = loaded + rejected');
      assert.deepEqual([result.loadedRows, result.rejectedRows], [expected.daily.loaded, expected.daily.rejects.length]);
      const { rows } = await pool.query<{ line: number; reason: string }>('SELECT line, reason FROM warehouse.orders_rejected WHERE ds = $1 ORDER BY line', [DS]);
      assert.deepEqual(rows.map((r) => `${r.line}: ${r.reason}`), expected.daily.rejects);
      const { rows: raws } = await pool.query<{ longest: number | null }>('SELECT max(length(raw)) AS longest FROM warehouse.orders_rejected WHERE ds = $1', [DS]);
      assert.ok((raws[0].longest ?? 0) <= 1000, 'a rejected record keeps at most 1000 characters');
    }

    const fileBefore = await parquetState();
    const flow = await runFlow(client, config, ordersEtlFlow, DS, { refreshCache: true });
    const flowResult = client.workflow.getHandle(flow.workflowId, flow.runId).result() as Promise<OrdersPipelineResult>;
    if ('fails' in expected.flow) {
      await failsAtOnce(flow.workflowId, flow.runId, flowResult, expected.flow.fails, 'extractOrders');
      assert.equal(await parquetState(), fileBefore, 'the Parquet file is as it was');
    } else {
      const result = await flowResult;
      assert.equal(result.rowsIn, result.kept + result.dropped + result.rejected, 'rows in = kept + dropped + rejected');
      assert.deepEqual([result.kept, result.dropped, result.rejected], [expected.flow.kept, expected.flow.dropped, expected.flow.rejects.length]);
      const rejects = (await readFile(path.join(config.dataDir, result.rejects.path), 'utf8')).trim().split('\n').slice(1);
      const lines = rejects.map((line) => /^(\d+),(?:"((?:[^"]|"")*)"|([^,]*)),/.exec(line)).map((m) => (m ? `${m[1]}: ${(m[2] ?? m[3]).replace(/""/g, '"')}` : '?'));
      assert.equal(lines.length, expected.flow.rejects.length, lines.join(' | '));
      expected.flow.rejects.forEach((reject, i) => (typeof reject === 'string' ? assert.equal(lines[i], reject) : assert.match(lines[i], reject)));
    }
  });
}
