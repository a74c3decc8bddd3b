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
import assert from '../support/assert';
import { copyFile, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import type { OrdersPipelineResult } from '../../workflows/dags/orders-etl/contract';
import { ordersDailyEtlDag, ordersEtlFlow } from '../support/reference-dags';
import { startRun, triggerRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { attemptsOf, repoRoot, tempDir, integrationPlatform } from '../support';

const DS = '2099-03-01';
const platform = integrationPlatform();
const { config, pool } = platform;
const rawFile = path.join(config.dataDir, 'raw', `orders_${DS}.csv`);
const parquet = path.join(config.dataDir, 'processed', `orders_${DS}.parquet`);

beforeAll(() => mkdir(path.dirname(rawFile), { recursive: true }));

/** What a file should do: load with these rejects (line: reason), or fail with this error (in this task). */
type Daily = { loaded: number; rejects: string[] } | { fails: RegExp; task?: string } | { empty: true };
type Flow = { kept: number; dropped: number; rejects: Array<string | RegExp> } | { fails: RegExp };

const header = (found: string) =>
  new RegExp(`^task extract failed: ${rawFile}: line 1: wrong header: expected "order_id,customer_id,order_date,amount,status", found ${found}$`);
const notDecimal = (line: number, value: string) => `${line}: amount '${value}' is not a decimal(12,2)`;
const tooBig = (line: number, value: string) =>
  `${line}: amount '${value}' does not fit decimal(12,2) without losing digits (at most 10 before the point and 2 after)`;
const required = (line: number, column: string) => `${line}: ${column} is required, found an empty value`;
const loneCr = (line: number) => `${line}: contains a carriage return (CR) that ends no line`;
const STRAY = '501: unbalanced quote: a quoted field opened on line 501 is not closed before the end of the file';
const CORPUS: Record<string, { daily: Daily; flow: Flow }> = {
  'empty.csv': {
    daily: { fails: header('\\(empty file\\)') },
    flow: { fails: new RegExp(`^task extract_data failed: ${rawFile} is empty: not even a header$`) },
  },
  'header-only.csv': { daily: { empty: true }, flow: { kept: 0, dropped: 0, rejects: [] } },
  'wrong-header.csv': {
    daily: { fails: header('"id,customer,date,total,state"') },
    flow: {
      fails: new RegExp(
        `^task extract_data failed: ${rawFile}: missing columns order_id, customer_id, order_date, amount, status; expected order_id,customer_id,order_date,amount,status$`,
      ),
    },
  },
  'reordered-header.csv': { daily: { fails: header('"customer_id,order_id,order_date,amount,status"') }, flow: { kept: 1, dropped: 0, rejects: [] } },
  'quoted-header.csv': { daily: { loaded: 2, rejects: [] }, flow: { kept: 2, dropped: 0, rejects: [] } },
  'named-columns.csv': {
    daily: { fails: header('"status,note, internal,amount,order_date,customer_id,order_id"') },
    flow: { kept: 2, dropped: 0, rejects: [] },
  },
  'missing-column.csv': {
    daily: { loaded: 2, rejects: ['3: expected 5 fields, found 4'] },
    flow: { kept: 2, dropped: 0, rejects: ['3: expected 5 fields, found 4'] },
  },
  'extra-column.csv': {
    daily: { loaded: 2, rejects: ['3: expected 5 fields, found 6'] },
    flow: { kept: 2, dropped: 0, rejects: ['3: expected 5 fields, found 6'] },
  },
  'quoted-commas-newlines.csv': { daily: { loaded: 3, rejects: [] }, flow: { kept: 3, dropped: 0, rejects: [] } },
  'crlf.csv': { daily: { loaded: 2, rejects: [] }, flow: { kept: 2, dropped: 0, rejects: [] } },
  'lone-cr.csv': { daily: { loaded: 1, rejects: [loneCr(2), loneCr(3)] }, flow: { kept: 1, dropped: 0, rejects: [loneCr(2), loneCr(3)] } },
  'utf8-bom.csv': { daily: { loaded: 2, rejects: [] }, flow: { kept: 2, dropped: 0, rejects: [] } },
  'invalid-utf8.csv': { daily: { loaded: 2, rejects: ['3: not valid UTF-8'] }, flow: { kept: 2, dropped: 0, rejects: ['3: not valid UTF-8'] } },
  'nul-bytes.csv': { daily: { loaded: 2, rejects: ['3: contains a NUL byte'] }, flow: { kept: 2, dropped: 0, rejects: ['3: contains a NUL byte'] } },
  'alphanumeric-ids.csv': { daily: { loaded: 7, rejects: [] }, flow: { kept: 7, dropped: 0, rejects: [] } },
  'amount-spellings.csv': {
    daily: { loaded: 6, rejects: [notDecimal(7, 'NaN'), notDecimal(8, 'Infinity')] },
    flow: { kept: 7, dropped: 0, rejects: ["8: amount 'Infinity' is not a number"] },
  },
  'non-numeric-amounts.csv': {
    daily: { loaded: 2, rejects: [notDecimal(3, 'twelve'), required(5, 'amount')] },
    flow: { kept: 3, dropped: 0, rejects: ["3: amount 'twelve' is not a number"] },
  },
  'negative-amounts.csv': { daily: { loaded: 2, rejects: ["3: amount '-7.25' breaks the rule amount >= 0"] }, flow: { kept: 3, dropped: 0, rejects: [] } },
  'huge-amounts.csv': {
    daily: { loaded: 1, rejects: [tooBig(3, '123456789012.00'), tooBig(4, '99999999999999999999999999999999999999999'), tooBig(5, '1.999')] },
    flow: { kept: 4, dropped: 0, rejects: [] },
  },
  'wrong-dates.csv': {
    daily: {
      loaded: 1,
      rejects: [
        `3: order_date '2099-03-02' breaks the rule order_date = ds (ds is ${DS})`,
        "4: order_date '2099-02-30' is not a date (YYYY-MM-DD)",
        "5: order_date '03/01/2099' is not a date (YYYY-MM-DD)",
      ],
    },
    flow: { kept: 4, dropped: 0, rejects: [] },
  },
  'duplicate-ids.csv': {
    daily: { loaded: 2, rejects: ["4: duplicate order_id '1' (first at line 2)", "5: duplicate order_id '2' (first at line 3)"] },
    flow: { kept: 4, dropped: 0, rejects: [] },
  },
  // pandas drops '' but keeps '  ' (it is not one of its missing values); the DAG trims ids.
  'missing-ids.csv': { daily: { loaded: 2, rejects: [required(3, 'order_id'), required(4, 'order_id')] }, flow: { kept: 3, dropped: 1, rejects: [] } },
  // Text ids such as NA are ids to the DAG; pandas reads them (and amounts NA, n/a) as missing.
  'missing-value-spellings.csv': { daily: { loaded: 7, rejects: [notDecimal(9, 'NA'), notDecimal(10, 'n/a')] }, flow: { kept: 2, dropped: 7, rejects: [] } },
  'long-line.csv': {
    daily: { loaded: 2, rejects: ['3: record is longer than 1 MiB'] },
    flow: { kept: 2, dropped: 0, rejects: ['3: record is longer than 1 MiB'] },
  },
  // 1,000 rows: `shipped"` on row 3 is a status; a field opened by a stray quote on row 500 costs that row alone.
  'stray-quotes.csv': { daily: { loaded: 999, rejects: [STRAY] }, flow: { kept: 999, dropped: 0, rejects: [STRAY] } },
};

/** The corpus file into the day's raw file; the 10 MB line is made here rather than kept in git. */
async function placeInput(name: string): Promise<void> {
  if (name === 'long-line.csv') {
    await writeFile(
      rawFile,
      `order_id,customer_id,order_date,amount,status\n1,10,${DS},12.50,shipped\n2,11,${DS},7.25,${'x'.repeat(10 << 20)}\n3,12,${DS},3.00,shipped\n`,
    );
  } else if (name === 'stray-quotes.csv') {
    const rows = Array.from({ length: 1000 }, (_, i) => `${i + 1},${i === 499 ? '"C-7' : `C-${i}`},${DS},5.00,${i === 2 ? 'shipped"' : 'shipped'}`);
    await writeFile(rawFile, `order_id,customer_id,order_date,amount,status\n${rows.join('\n')}\n`);
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

const parquetState = async () => ((await stat(parquet).catch(() => undefined)) ? (await readFile(parquet)).toString('base64') : 'absent');

async function failsAtOnce(workflowId: string, runId: string, promise: Promise<unknown>, message: RegExp, activity: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.match(err.cause?.message ?? '', message);
    return true;
  });
  assert.deepEqual((await attemptsOf(platform.client, workflowId, runId))[activity], [1], `${activity} was not retried: the error is non-retryable`);
}

test('a good day first: the state each bad file must leave whole when it fails', async () => {
  await generateOrders({ ds: DS, rows: 50, badRate: 0, seed: 9903, file: rawFile });
  const daily = (await platform.client.workflow
    .getHandle((await triggerRun(platform.client, config, ordersDailyEtlDag, DS, { skip_dbt: true })).workflowId)
    .result()) as OrdersDailyEtlResult;
  assert.equal(daily.loadedRows, 50);
  const flow = (await platform.client.workflow
    .getHandle((await startRun(platform.client, config, ordersEtlFlow, DS, { refreshCache: true })).workflowId)
    .result()) as OrdersPipelineResult;
  assert.equal(flow.kept, 50);
});

for (const [name, expected] of Object.entries(CORPUS)) {
  test(`bad input ${name}: orders_daily_etl and orders-etl`, async () => {
    await placeInput(name);

    const dayBefore = await warehouseDay();
    // Any share of rejects: this test is about each reject's line and reason (the audit has a test of its own).
    const daily = await triggerRun(platform.client, config, ordersDailyEtlDag, DS, { skip_dbt: true, max_rejected_ratio: 1 });
    const dailyResult = platform.client.workflow.getHandle(daily.workflowId, daily.runId).result() as Promise<OrdersDailyEtlResult>;
    if ('fails' in expected.daily) {
      await failsAtOnce(daily.workflowId, daily.runId, dailyResult, expected.daily.fails, `orders_daily_etl.${expected.daily.task ?? 'extract'}`);
      assert.equal(await warehouseDay(), dayBefore, 'the partition is as it was');
    } else if ('empty' in expected.daily) {
      const result = await dailyResult;
      assert.deepEqual([result.state, result.rowCount], ['success_with_skips', 0]);
      assert.equal(await warehouseDay(), dayBefore, 'an empty day replaces nothing (send_empty_alert instead)');
    } else {
      const result = await dailyResult;
      assert.equal(result.state, 'success');
      assert.equal(result.rowCount, result.loadedRows + result.rejectedRows, 'records in = loaded + rejected');
      const extract = result.tasks.find((t) => t.taskId === 'extract')!.output!;
      const { rows: lines } = await pool.query<{ n: string }>(
        'SELECT (SELECT coalesce(sum(source_lines), 0) FROM warehouse.orders WHERE ds = $1) + (SELECT coalesce(sum(lines), 0) FROM warehouse.orders_rejected WHERE ds = $1) AS n',
        [DS],
      );
      // Counted apart from the reader: no file of the corpus has a blank line inside a quoted field.
      const physical = (await readFile(rawFile)).toString('latin1').replace(/\n$/, '').split('\n');
      const blank = physical.filter((line) => line === '' || line === '\r').length;
      assert.equal(extract.lines, physical.length, 'extract counted every line of the file');
      assert.equal(Number(lines[0].n), physical.length - 1 - blank, 'every line but the header and blank ones is in a loaded or a rejected record');
      assert.deepEqual([result.loadedRows, result.rejectedRows], [expected.daily.loaded, expected.daily.rejects.length]);
      const { rows } = await pool.query<{ line: number; reason: string }>('SELECT line, reason FROM warehouse.orders_rejected WHERE ds = $1 ORDER BY line', [
        DS,
      ]);
      assert.deepEqual(
        rows.map((r) => `${r.line}: ${r.reason}`),
        expected.daily.rejects,
      );
      const { rows: raws } = await pool.query<{ longest: number | null }>('SELECT max(length(raw)) AS longest FROM warehouse.orders_rejected WHERE ds = $1', [
        DS,
      ]);
      assert.ok((raws[0].longest ?? 0) <= 1000, 'a rejected record keeps at most 1000 characters');
    }

    const fileBefore = await parquetState();
    const flow = await startRun(platform.client, config, ordersEtlFlow, DS, { refreshCache: true });
    const flowResult = platform.client.workflow.getHandle(flow.workflowId, flow.runId).result() as Promise<OrdersPipelineResult>;
    if ('fails' in expected.flow) {
      await failsAtOnce(flow.workflowId, flow.runId, flowResult, expected.flow.fails, 'orders-etl.extractOrders');
      assert.equal(await parquetState(), fileBefore, 'the Parquet file is as it was');
    } else {
      const result = await flowResult;
      assert.equal(result.rowsIn, result.kept + result.dropped + result.rejected, 'rows in = kept + dropped + rejected');
      assert.deepEqual([result.kept, result.dropped, result.rejected], [expected.flow.kept, expected.flow.dropped, expected.flow.rejects.length]);
      const rejects = (await readFile(path.join(config.dataDir, result.rejects.path), 'utf8')).trim().split('\n').slice(1);
      const lines = rejects
        .map((line) => /^(\d+),(?:"((?:[^"]|"")*)"|([^,]*)),/.exec(line))
        .map((m) => (m ? `${m[1]}: ${(m[2] ?? m[3]).replace(/""/g, '"')}` : '?'));
      assert.equal(lines.length, expected.flow.rejects.length, lines.join(' | '));
      expected.flow.rejects.forEach((reject, i) => (typeof reject === 'string' ? assert.equal(lines[i], reject) : assert.match(lines[i], reject)));
    }
  });
}

test('write-audit-publish: a day with more than max_rejected_ratio rejected fails at load, giving the ratio and the commonest reasons; the previous day stays', async () => {
  await generateOrders({ ds: DS, rows: 40, badRate: 0, seed: 9904, file: rawFile });
  await platform.client.workflow.getHandle((await triggerRun(platform.client, config, ordersDailyEtlDag, DS, { skip_dbt: true })).workflowId).result();
  const dayBefore = await warehouseDay();
  // 20 records: 12 good, 5 amounts that are not numbers, 2 negative, 1 with the wrong date: 40% rejected.
  const rows = Array.from({ length: 20 }, (_, i) => {
    const id = `W-${i + 1}`;
    if (i < 5) return `${id},1,${DS},twelve,shipped`;
    if (i < 7) return `${id},1,${DS},-1.00,shipped`;
    if (i < 8) return `${id},1,2099-03-02,1.00,shipped`;
    return `${id},1,${DS},1.00,shipped`;
  });
  await writeFile(rawFile, `order_id,customer_id,order_date,amount,status\n${rows.join('\n')}\n`);
  const run = await triggerRun(platform.client, config, ordersDailyEtlDag, DS, { skip_dbt: true });
  const result = platform.client.workflow.getHandle(run.workflowId, run.runId).result();
  await failsAtOnce(
    run.workflowId,
    run.runId,
    result,
    new RegExp(
      `^task load failed: orders ${DS}: 40% of the records rejected \\(8 of 20\\), more than max_rejected_ratio 5%: the day is not published and the previous partition stays as it was\\. ` +
        `Most common: amount: decimal\\(12,2\\) \\(5\\), amount: >= 0 \\(2\\), order_date: = ds \\(1\\)\\. The rejects are in staging\\.orders_rejected_20990301$`,
    ),
    'orders_daily_etl.load',
  );
  assert.equal(await warehouseDay(), dayBefore, 'the partition is as it was');
  // The same day, loaded on purpose with a run's own limit.
  const forced = (await platform.client.workflow
    .getHandle((await triggerRun(platform.client, config, ordersDailyEtlDag, DS, { skip_dbt: true, max_rejected_ratio: 0.5 })).workflowId)
    .result()) as OrdersDailyEtlResult;
  assert.deepEqual([forced.loadedRows, forced.rejectedRows], [12, 8]);
});

test('a raw file that is a symlink out of the data directory is refused before a byte is read, its content never quoted', async () => {
  const outside = path.join(await tempDir(), 'owner-password.txt');
  await writeFile(outside, 'order_id,customer_id,order_date,amount,status\nS3cret-Passw0rd\n');
  await rm(rawFile, { force: true });
  await symlink(outside, rawFile);
  try {
    const refused = new RegExp(
      `^task (wait_for_file|extract_data) failed: ${rawFile} leads outside the data directory .* \\(through a symlink\\): refused, nothing read$`,
    );
    // Refused by wait_for_file already: the sensor does not wait for a file it will not read.
    const daily = await triggerRun(platform.client, config, ordersDailyEtlDag, DS, { skip_dbt: true });
    await failsAtOnce(daily.workflowId, daily.runId, platform.client.workflow.getHandle(daily.workflowId, daily.runId).result(), refused, 'checkFile');
    const flow = await startRun(platform.client, config, ordersEtlFlow, DS, { refreshCache: true });
    // Refused by the cache lookup already: a file outside the data directory is not even hashed.
    await failsAtOnce(flow.workflowId, flow.runId, platform.client.workflow.getHandle(flow.workflowId, flow.runId).result(), refused, 'cacheLookup');
    const history = JSON.stringify(await platform.client.workflow.getHandle(daily.workflowId, daily.runId).fetchHistory());
    assert.doesNotMatch(history, /S3cret/);
  } finally {
    await rm(rawFile, { force: true });
  }
});
