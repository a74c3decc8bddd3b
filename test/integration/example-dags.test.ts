/**
 * The example DAGs on the real platform: customers_example loads two files under contracts of
 * its own (loadCsv), writes Parquet with DuckDB and runs `dbt build` on its own project, whose
 * tests run; fiscal_calendar_example waits on a SQL sensor and runs a task written beside it.
 * Every row is accounted for: loaded, or rejected with its line and rule.
 */
import assert from '../support/assert';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { createDuckdbOperator } from '../../src/operators/duckdb/activity';
import { createLoadCsvOperator } from '../../src/operators/load-csv/activity';
import { findInCatalog, loadCatalog } from '../../src/dag-catalog';
import { triggerRun, waitForRun, type DagRunResult } from '../../src/runs';
import { integrationPlatform } from '../support';

const platform = integrationPlatform();
const catalog = loadCatalog();

async function writeRaw(name: string, text: string): Promise<string> {
  const file = path.join(platform.config.dataDir, 'raw', name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  platform.atEnd(() => rm(file, { force: true }));
  return file;
}

async function run<T>(dagId: string, ds: string, conf: Record<string, unknown> = {}) {
  const started = await triggerRun(platform.client, platform.config, findInCatalog(catalog, dagId)!, ds, conf);
  const handle = platform.client.workflow.getHandle(started.workflowId, started.runId);
  try {
    return { result: await waitForRun<DagRunResult & T>(platform.client, started), handle, error: undefined };
  } catch (err) {
    return { error: err as Error & { cause?: Error }, handle };
  }
}

async function rows(sql: string, values: unknown[] = []) {
  return (await platform.pool.query(sql, values)).rows;
}

// The examples' tables start empty in each run of the file, and are gone after it.
const dropTables = () =>
  platform.pool.query(
    'DROP TABLE IF EXISTS examples.customers, examples.customers_rejected, examples.payments, examples.payments_rejected, examples.fiscal_days, examples.direct, examples.direct_rejected, analytics_dev.customer_revenue',
  );
beforeAll(async () => {
  await dropTables();
  platform.atEnd(dropTables);
});

const CUSTOMERS = ['customer_id,name,country', 'C1,Ada,GB', 'C2,Grace,US', 'C3,Linus,FI', 'C2,Grace Hopper,US', ''].join('\n');

test('customers_example: two files under their contracts, rejects with their lines, Parquet, then dbt build with its tests', async () => {
  const ds = '2024-05-06';
  await writeRaw(`customers_${ds}.csv`, CUSTOMERS);
  // by-name header: columns in another order, and one the contract does not name.
  await writeRaw(
    `payments_${ds}.csv`,
    [
      'amount,payment_id,note,customer_id,paid_on',
      '10.50,P1,,C1,2024-05-06',
      '4.50,P2,,C1,2024-05-06',
      '7,P3,,C2,2024-05-06',
      '3,P3,again,C2,2024-05-06',
      '2,P4,,C3,2024-05-06',
      '1,P5,,C3,2024-05-06',
      '8,P6,,C1,2024-05-06',
      '9,P7,,C2,2024-05-06',
      '6,P8,,C3,2024-05-06',
      '5,P9,,C1,2024-05-06',
      '-1,P10,refund,C2,2024-05-06',
      '',
    ].join('\n'),
  );
  const { result, error } = await run<{ customers: number; payments: number; rejected: number; nodes: Record<string, string> }>('customers_example', ds);
  assert.equal(error, undefined);
  assert.equal(result!.state, 'success');
  assert.deepEqual([result!.customers, result!.payments, result!.rejected], [3, 9, 3]);
  // keep: last, so C2 is the later record; the earlier one is a reject naming the line kept.
  assert.deepEqual(await rows('SELECT customer_id, name FROM examples.customers ORDER BY customer_id'), [
    { customer_id: 'C1', name: 'Ada' },
    { customer_id: 'C2', name: 'Grace Hopper' },
    { customer_id: 'C3', name: 'Linus' },
  ]);
  assert.deepEqual(await rows('SELECT line, rule, reason FROM examples.customers_rejected'), [
    { line: 3, rule: 'customer_id: unique key', reason: 'duplicate customer_id (kept line 5)' },
  ]);
  assert.deepEqual(
    (await rows('SELECT line, rule FROM examples.payments_rejected WHERE ds = $1 ORDER BY line', [ds])).map((r) => [r.line, r.rule]),
    [
      [5, 'payment_id: unique key'],
      [12, 'amount: > 0'],
    ],
  );
  assert.deepEqual(await rows('SELECT count(*)::int AS n, sum(amount)::text AS total FROM examples.payments WHERE ds = $1', [ds]), [{ n: 9, total: '53.00' }]);
  // dbt build: the model and the tests on it and on the two sources.
  assert.equal(result!.nodes.customer_revenue, 'success');
  assert.equal(result!.nodes.source_unique_examples_customers_customer_id, 'pass');
  assert.equal(result!.nodes.unique_customer_revenue_customer_id, 'pass');
  assert.equal(Object.values(result!.nodes).filter((s) => s === 'pass').length, 7);
  assert.deepEqual(await rows('SELECT customer_id, payments::int, revenue::text FROM analytics_dev.customer_revenue ORDER BY customer_id'), [
    { customer_id: 'C1', payments: 4, revenue: '28.00' },
    { customer_id: 'C2', payments: 2, revenue: '16.00' },
    { customer_id: 'C3', payments: 3, revenue: '9.00' },
  ]);
  const parquet = result!.tasks.find((t) => t.taskId === 'payments_parquet')!;
  assert.deepEqual(parquet.output, { path: `processed/payments_${ds}.parquet`, rows: 11, bytes: parquet.output!.bytes });
  assert.equal((await readFile(path.join(platform.config.dataDir, 'processed', `payments_${ds}.parquet`))).subarray(0, 4).toString(), 'PAR1');
});

test('customers_example: a payment of a customer the file does not have fails dbt build naming the test; too many rejects publish nothing', async () => {
  const ds = '2024-05-07';
  await writeRaw(`customers_${ds}.csv`, CUSTOMERS);
  await writeRaw(`payments_${ds}.csv`, ['payment_id,customer_id,paid_on,amount', 'P1,C1,2024-05-07,1', 'P2,C9,2024-05-07,2', ''].join('\n'));
  const failed = await run('customers_example', ds);
  assert.match(
    String(failed.error?.cause?.message ?? failed.error?.message),
    /task build failed: build: dbt build --select customers_example --target dev exited 1: source_relationships_examples_\w+ fail: Got 1 result/,
  );

  const before = await rows('SELECT count(*)::int AS n FROM examples.payments WHERE ds = $1', [ds]);
  await writeRaw(
    `payments_${ds}.csv`,
    ['payment_id,customer_id,paid_on,amount', 'P1,C1,2024-05-07,1', 'P2,C1,2024-05-08,2', 'P3,C1,2024-05-07,0', ''].join('\n'),
  );
  const refused = await run('customers_example', ds);
  assert.match(
    String(refused.error?.cause?.message ?? refused.error?.message),
    /task load_payments failed: load_payments: .*payments_2024-05-07\.csv: 66\.7% of the records rejected \(2 of 3\), more than maxRejectedRatio 20%: examples\.payments is left as it was/,
  );
  assert.deepEqual(await rows('SELECT count(*)::int AS n FROM examples.payments WHERE ds = $1', [ds]), before);
});

test('fiscal_calendar_example: a sensor, then a task of its own, its output stored by SQL; bad conf names the field', async () => {
  const { result } = await run<{ fiscal: unknown }>('fiscal_calendar_example', '2024-05-06', { fiscal_year_start_month: 4 });
  assert.equal(result!.state, 'success');
  assert.deepEqual(result!.fiscal, { year: 2025, quarter: 1, week: 6 });
  assert.deepEqual(
    result!.tasks.map((t) => [t.taskId, t.state]),
    [
      ['warehouse_ready', 'success'],
      ['create_table', 'success'],
      ['fiscal_day', 'success'],
      ['store', 'success'],
    ],
  );
  assert.deepEqual(await rows("SELECT fiscal_year, fiscal_quarter, fiscal_week FROM examples.fiscal_days WHERE ds = '2024-05-06'"), [
    { fiscal_year: 2025, fiscal_quarter: 1, fiscal_week: 6 },
  ]);
  const bad = await run('fiscal_calendar_example', '2024-05-07', { fiscal_year_start_month: 13 });
  assert.match(String(bad.error?.cause?.message), /bad params, no task was run: params\.fiscal_year_start_month: .* \(conf gave 13\)/);
});

test('loadCsv and duckdb as activities: replace, then one day of a partitioned table; a bad file changes nothing', async () => {
  const load = createLoadCsvOperator(platform.pool, platform.config.dataDir);
  const base = {
    dagId: 'direct',
    taskId: 'load',
    attempt: 1,
    contract: {
      header: 'exact' as const,
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'ok', type: 'boolean' },
      ],
    },
  };
  await writeRaw('direct_a.csv', 'id,ok\n1,true\n2,false\nx,true\n\n3,true\n');
  const first = await load({ ...base, ds: '2024-05-06', file: 'raw/direct_a.csv', table: 'examples.direct', mode: 'partition', maxRejectedRatio: 0.5 });
  assert.deepEqual(first, { table: 'examples.direct', rows: 3, rejected: 1, records: 4, duplicates: 0, replaced: 0, lines: 6, bytes: 36 });
  const again = await load({ ...base, ds: '2024-05-06', file: 'raw/direct_a.csv', table: 'examples.direct', mode: 'partition', maxRejectedRatio: 0.5 });
  assert.equal(again.replaced, 3, 'a rerun of the day replaces its rows, never adds to them');
  await load({ ...base, ds: '2024-05-07', file: 'raw/direct_a.csv', table: 'examples.direct', mode: 'partition', maxRejectedRatio: 0.5 });
  assert.deepEqual(await rows('SELECT ds::text, count(*)::int AS n FROM examples.direct GROUP BY ds ORDER BY ds'), [
    { ds: '2024-05-06', n: 3 },
    { ds: '2024-05-07', n: 3 },
  ]);
  assert.deepEqual(await rows('SELECT line, rule FROM examples.direct_rejected WHERE ds = $1', ['2024-05-06']), [{ line: 4, rule: 'id: integer' }]);

  await writeRaw('direct_empty.csv', 'id,ok\n');
  const empty = { ...base, ds: '2024-05-07', file: 'raw/direct_empty.csv', table: 'examples.direct', mode: 'partition' as const };
  await assert.rejects(
    load(empty),
    /raw\/direct_empty\.csv has a header and no records: examples\.direct is left as it was \(allowEmpty: true loads an empty file\)/,
  );
  assert.deepEqual(await rows('SELECT count(*)::int AS n FROM examples.direct WHERE ds = $1', ['2024-05-07']), [{ n: 3 }]);
  assert.deepEqual(
    { ...(await load({ ...empty, allowEmpty: true })), bytes: 0 },
    { table: 'examples.direct', rows: 0, rejected: 0, records: 0, duplicates: 0, replaced: 3, lines: 1, bytes: 0 },
  );
  await load({ ...base, ds: '2024-05-07', file: 'raw/direct_a.csv', table: 'examples.direct', mode: 'partition', maxRejectedRatio: 0.5 });

  await writeRaw('direct_b.csv', 'ok,id\ntrue,1\n');
  await assert.rejects(load({ ...base, ds: '2024-05-06', file: 'raw/direct_b.csv', table: 'examples.direct', mode: 'partition' }), /line 1: wrong header/);
  await assert.rejects(load({ ...base, ds: '2024-05-06', file: '../outside.csv', table: 'examples.direct', mode: 'partition' }), /leaves the data directory/);
  await assert.rejects(load({ ...base, ds: '2024-05-06', file: 'raw/none.csv', table: 'examples.direct', mode: 'partition' }), /input file not found/);
  await assert.rejects(load({ ...base, ds: '2024-05-06', file: 'raw/direct_a.csv', table: 'Examples.Direct', mode: 'partition' }), /is not schema\.table/);
  assert.deepEqual(await rows('SELECT count(*)::int AS n FROM examples.direct'), [{ n: 6 }]);
  assert.deepEqual(await rows("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'staging' AND tablename LIKE 'load\\_%'"), [{ n: 0 }]);

  const duck = createDuckdbOperator(platform.config.dataDir);
  const input = { dagId: 'direct', taskId: 'pq', ds: '2024-05-06', attempt: 1 };
  assert.deepEqual(
    { ...(await duck({ ...input, sql: "SELECT * FROM read_csv('raw/direct_a.csv', all_varchar = true)", output: 'processed/direct.parquet' })), bytes: 0 },
    { path: 'processed/direct.parquet', rows: 4, bytes: 0 },
  );
  platform.atEnd(() => rm(path.join(platform.config.dataDir, 'processed', 'direct.parquet'), { force: true }));
  await assert.rejects(duck({ ...input, sql: "SELECT * FROM read_text('/etc/passwd')", output: 'processed/x.parquet' }), /DuckDB: Permission Error/);
  await assert.rejects(duck({ ...input, sql: "SELECT * FROM '../x.csv'", output: 'processed/x.parquet' }), /leaves the data directory/);
  await assert.rejects(duck({ ...input, sql: 'SELECT 1; SELECT 2', output: 'processed/x.parquet' }), /the SQL must be one query, without ;/);
});
