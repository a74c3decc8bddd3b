/**
 * orders_daily_etl's own tasks in MockActivityEnvironment (heartbeats, cancellation), with the
 * context the worker gives them, against the real test database: extract, transform, load and
 * validate with exact outcomes.
 */
import assert from '../support/assert';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { migrateWarehouse } from '../../activities/warehouse';
import * as ordersTasks from '../../workflows/dags/orders_daily_etl/activities';
import { prng, seedSourceOrders } from '../../scripts/sample-orders';
import { count, nonRetryable, quietLogger, runActivity, tempDir, testConfig, testPool, mockActivityEnv } from '../support';
import { boundTasks } from '../support/own-tasks';

const config = testConfig();
const pool = testPool(config);
let dataDir: string;
const folder = path.join(__dirname, '..', '..', 'workflows', 'dags', 'orders_daily_etl');
const tasksWith = (connections: Record<string, string>) =>
  boundTasks(ordersTasks, { dagId: 'orders_daily_etl', folder, pool, config: { ...config, dataDir, connections }, logger: quietLogger });
let acts: ReturnType<typeof tasksWith>;

beforeAll(async () => {
  dataDir = await tempDir();
  await mkdir(path.join(dataDir, 'raw'));
  await migrateWarehouse(pool);
  // This file owns the logical dates of January 2030 in the test database: start them empty.
  for (const table of ['warehouse.orders', 'warehouse.orders_rejected']) {
    await pool.query(`DELETE FROM ${table} WHERE ds BETWEEN '2030-01-01' AND '2030-01-31'`);
  }
  acts = tasksWith({ postgres_prod: testConfig().databaseUrl });
});
afterAll(() => pool.end());

const HEADER = 'order_id,customer_id,order_date,amount,status';
const writeRaw = (ds: string, body: string) => writeFile(path.join(dataDir, 'raw', `orders_${ds}.csv`), body);

test('every kind of bad row is rejected with its line and reason; good rows load', async () => {
  const ds = '2030-01-01';
  await writeRaw(
    ds,
    [
      HEADER,
      '1,10,2030-01-01,10.50,shipped', // 2 ok
      ',11,2030-01-01,1.00,shipped', // 3 missing order_id
      'x7,C-11,2030-01-01,.5,shipped', // 4 ok: text ids, .5
      '2,12,2030-01-02,1.00,shipped', // 5 not the run's date
      '3,12,2030-02-30,1.00,shipped', // 6 impossible date
      '4,12,01/01/2030,1.00,shipped', // 7 not a date
      '5,13,2030-01-01,abc,shipped', // 8 amount not a number
      '6,13,2030-01-01,-3.00,shipped', // 9 negative
      '7,13,2030-01-01,12345678901.00,shipped', // 10 out of range
      '8,13,2030-01-01,1.005,shipped', // 11 too many decimals
      '1,14,2030-01-01,99.99,pending', // 12 duplicate of line 2
      '9,14,2030-01-01,2.25', // 13 missing column
      '10,,2030-01-01,2.25,shipped', // 14 missing customer_id
      '11,15,2030-01-01,2.25,', // 15 missing status
      '12,15,2030-01-01,0,"delivered, late"', // 16 ok (quoted comma)
      'ORD-2024-000123,15,2030-01-01,12.500,shipped"', // 17 ok: a stray quote is a character
      '9223372036854775808,16,2030-01-01,1e3,shipped', // 18 ok: a 19-digit id, 1e3
      '',
    ].join('\n'),
  );
  const extracted = await runActivity(acts.extract, { ds });
  assert.deepEqual(
    [extracted.rowCount, extracted.stagedRows, extracted.stagedRejects, extracted.stagingTable, extracted.lines],
    [17, 6, 11, 'staging.orders_20300101', { lines: 18, header: 1, blank: 0, records: 16, recordLines: 16, malformed: 1 }],
  );
  // Extract saw order_id 1 twice: the one id transform searches for.
  assert.equal(extracted.keyCandidates, 1);
  const transformed = await runActivity(acts.transform, { ds, rowCount: 17, stagedRows: 6, stagedRejects: 11, keyCandidates: 1 });
  assert.deepEqual([transformed.cleanRows, transformed.rejectedRows, transformed.duplicates], [5, 12, 1]);
  const loaded = await runActivity(acts.load, { ds, rowCount: 17, cleanRows: 5, rejectedRows: 12, maxRejectedRatio: 1 });
  assert.deepEqual(loaded, { loadedRows: 5, rejectedRows: 12, replacedRows: 0 });
  // The day's primary key is the one transform built, taken over by warehouse.orders' own: one index, none built twice.
  const { rows: indexes } = await pool.query<{ name: string; parent: string | null }>(
    `SELECT c.relname AS name, p.relname AS parent FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     LEFT JOIN pg_inherits h ON h.inhrelid = i.indexrelid LEFT JOIN pg_class p ON p.oid = h.inhparent
     WHERE i.indrelid = 'warehouse.orders_20300101'::regclass`,
  );
  assert.deepEqual(indexes, [{ name: 'orders_20300101_key', parent: 'orders_pkey' }]);
  // A day published before then has a spare unique index as well: the DAG's setup drops it, and only it.
  await pool.query('CREATE UNIQUE INDEX orders_20300101_spare ON warehouse.orders_20300101 (ds, order_id)');
  await pool.query("DELETE FROM baton.migrations WHERE name = 'dag:orders_daily_etl'");
  await migrateWarehouse(pool);
  const { rows: after } = await pool.query<{ name: string }>(
    "SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'warehouse.orders_20300101'::regclass",
  );
  assert.deepEqual(after, [{ name: 'warehouse.orders_20300101_key' }]);
  assert.deepEqual(await runActivity(acts.validate, { ds, rowCount: 17, lines: extracted.lines }), { checksPassed: 5 });

  const { rows: rejected } = await pool.query('SELECT line, lines, rule, reason FROM warehouse.orders_rejected WHERE ds = $1 ORDER BY line', [ds]);
  assert.deepEqual(
    rejected.map((r) => `${r.line}: ${r.reason} [${r.rule}]`),
    [
      '3: order_id is required, found an empty value [order_id: required]',
      "5: order_date '2030-01-02' breaks the rule order_date = ds (ds is 2030-01-01) [order_date: = ds]",
      "6: order_date '2030-02-30' is not a date (YYYY-MM-DD) [order_date: date]",
      "7: order_date '01/01/2030' is not a date (YYYY-MM-DD) [order_date: date]",
      "8: amount 'abc' is not a decimal(12,2) [amount: decimal(12,2)]",
      "9: amount '-3.00' breaks the rule amount >= 0 [amount: >= 0]",
      "10: amount '12345678901.00' does not fit decimal(12,2) without losing digits (at most 10 before the point and 2 after) [amount: decimal(12,2)]",
      "11: amount '1.005' does not fit decimal(12,2) without losing digits (at most 10 before the point and 2 after) [amount: decimal(12,2)]",
      "12: duplicate order_id '1' (first at line 2) [order_id: unique key]",
      '13: expected 5 fields, found 4 [malformed: field count]',
      '14: customer_id is required, found an empty value [customer_id: required]',
      '15: status is required, found an empty value [status: required]',
    ],
  );
  const { rows: orders } = await pool.query(
    'SELECT order_id, customer_id, amount::text, status, source_line FROM warehouse.orders WHERE ds = $1 ORDER BY source_line',
    [ds],
  );
  assert.deepEqual(orders, [
    { order_id: '1', customer_id: '10', amount: '10.50', status: 'shipped', source_line: 2 },
    { order_id: 'x7', customer_id: 'C-11', amount: '0.50', status: 'shipped', source_line: 4 },
    { order_id: '12', customer_id: '15', amount: '0.00', status: 'delivered, late', source_line: 16 },
    { order_id: 'ORD-2024-000123', customer_id: '15', amount: '12.50', status: 'shipped"', source_line: 17 },
    { order_id: '9223372036854775808', customer_id: '16', amount: '1000.00', status: 'shipped', source_line: 18 },
  ]);
  // validate drops the day's staging tables once the partition is good.
  assert.equal(await count(pool, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'staging' AND tablename LIKE '%20300101'"), 0);
});

test('a rerun replaces the partition: nothing doubles', async () => {
  const ds = '2030-01-02';
  await writeRaw(ds, `${HEADER}\n1,1,${ds},1.00,a\n2,1,${ds},2.00,a\n3,1,${ds},x,a\n`);
  for (let attempt = 1; attempt <= 2; attempt++) {
    const { rowCount } = await runActivity(acts.extract, { ds });
    await runActivity(acts.transform, { ds, rowCount });
    const loaded = await runActivity(acts.load, { ds, maxRejectedRatio: 0.5 });
    assert.deepEqual(loaded, { loadedRows: 2, rejectedRows: 1, replacedRows: attempt === 1 ? 0 : 2 });
    await runActivity(acts.validate, { ds, rowCount });
  }
  assert.equal(await count(pool, 'SELECT count(*) AS n FROM warehouse.orders WHERE ds = $1', [ds]), 2);
  assert.equal(await count(pool, 'SELECT count(*) AS n FROM warehouse.orders_rejected WHERE ds = $1', [ds]), 1);
});

test('load retried after it committed leaves the partition exactly as once', async () => {
  const ds = '2030-01-03';
  await writeRaw(ds, `${HEADER}\n1,1,${ds},1.00,a\n`);
  const { rowCount } = await runActivity(acts.extract, { ds });
  await runActivity(acts.transform, { ds, rowCount });
  await runActivity(acts.load, { ds });
  // The day was published: nothing is staged any more, and the partition stays as it is.
  await nonRetryable(
    runActivity(acts.load, { ds }),
    'MissingStaging',
    'nothing staged to publish for 2030-01-03 (staging.orders_20300103 is missing): run extract and transform first',
  );
  assert.equal(await count(pool, 'SELECT count(*) AS n FROM warehouse.orders WHERE ds = $1', [ds]), 1);
});

test('validate lists each failed check with its numbers, and fails non-retryably', async () => {
  const ds = '2030-01-04';
  await writeRaw(ds, `${HEADER}\n1,1,${ds},1.00,a\n2,1,${ds},2.00,a\n`);
  const { rowCount } = await runActivity(acts.extract, { ds });
  await runActivity(acts.transform, { ds, rowCount });
  await runActivity(acts.load, { ds });
  // Someone wrote into the partition behind the pipeline's back.
  await pool.query(
    "INSERT INTO warehouse.orders (ds, order_id, customer_id, order_date, amount, status, source_line) VALUES ($1, '3', '1', '2030-01-05', 1, 'a', 99)",
    [ds],
  );
  await nonRetryable(
    runActivity(acts.validate, { ds, rowCount, lines: { lines: 3, header: 1, blank: 0, records: 2, recordLines: 2, malformed: 0 } }),
    'ValidationFailed',
    'validation of orders 2030-01-04 failed 3 of 5 checks: lines in the file (3) != header (1) + blank (0) + lines loaded (3) + lines rejected (0); records in (2) != loaded (3) + rejected (0); order_date <> 2030-01-04 in 1 rows',
  );
});

test('bad input fails before any side effect, naming the problem', async () => {
  await nonRetryable(runActivity(acts.extract, { ds: '2024-02-30' }), 'InvalidLogicalDate', 'ds "2024-02-30" is not a real calendar date');
  await nonRetryable(runActivity(acts.extract, { ds: "'; drop table" }), 'InvalidLogicalDate', `ds "'; drop table" is not a date in the form YYYY-MM-DD`);
  const missing = path.join(dataDir, 'raw', 'orders_2030-01-06.csv');
  await nonRetryable(
    runActivity(acts.extract, { ds: '2030-01-06' }),
    'FileNotFound',
    `input file not found: ${missing} (orders_daily_etl reads <data dir>/raw/orders_<ds>.csv)`,
  );
  await writeRaw('2030-01-07', 'id,customer,date,amount\n1,2,2030-01-07,3\n');
  await nonRetryable(
    runActivity(acts.extract, { ds: '2030-01-07' }),
    'WrongHeader',
    `${path.join(dataDir, 'raw', 'orders_2030-01-07.csv')}: line 1: wrong header: expected "order_id,customer_id,order_date,amount,status", found "id,customer,date,amount"`,
  );
  assert.equal(await count(pool, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'staging' AND tablename LIKE '%20300107'"), 0);
});

test("the key rule's two searches agree: extract's candidate ids, with ids that do not repeat among them, and every id of the day", async () => {
  // 6,000 records of 2,500 ids: ids seen once, twice and up to seven times, in no order.
  const random = prng(17);
  const rows = Array.from({ length: 6000 }, (_, i) => `K-${Math.floor(random() * 2500)},c${i},DS,${(i % 97) + 0.5},shipped`);
  const ds = '2030-01-12';
  await writeRaw(ds, [HEADER, ...rows.map((r) => r.replace('DS', ds)), ''].join('\n'));
  const outcome = async (keyCandidates?: number) => {
    const extracted = await runActivity(acts.extract, { ds });
    const args = { ds, rowCount: extracted.rowCount, stagedRows: extracted.stagedRows, stagedRejects: extracted.stagedRejects };
    const transformed = await runActivity(acts.transform, { ...args, keyCandidates: keyCandidates ?? extracted.keyCandidates });
    const day = await pool.query('SELECT order_id, source_line FROM staging.orders_20300112 ORDER BY source_line');
    const rejects = await pool.query('SELECT line, rule, reason, raw FROM staging.orders_rejected_20300112 ORDER BY line');
    return { extracted, transformed, day: day.rows, rejects: rejects.rows };
  };
  const repeats = new Map<string, number>();
  for (const r of rows) repeats.set(r.split(',')[0], (repeats.get(r.split(',')[0]) ?? 0) + 1);
  const later = [...repeats.values()].reduce((n, k) => n + k - 1, 0);

  const searched = await outcome();
  // Every later record of an id is a candidate (a filter that misses none); a false one is rare.
  assert.ok(searched.extracted.keyCandidates! >= later && searched.extracted.keyCandidates! <= later + 5, `${searched.extracted.keyCandidates} of ${later}`);
  assert.equal(searched.transformed.duplicates, later);
  assert.equal(searched.day.length, repeats.size);
  assert.equal(await count(pool, 'SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename = $2', ['staging', 'orders_keys_20300112']), 0);

  // Every id of the day, searched in order_id's order (extract's count unknown, as in a run started before it was passed).
  const everyId = await outcome(-1);
  assert.deepEqual(everyId.transformed, searched.transformed);
  assert.deepEqual([everyId.day, everyId.rejects], [searched.day, searched.rejects]);
  // That search left extract's candidates unread (validate drops them with the rest of staging).
  assert.equal(await count(pool, 'SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename = $2', ['staging', 'orders_keys_20300112']), 1);

  // Candidates that do not repeat (a filter's false ones) come along and stay.
  const extracted = await runActivity(acts.extract, { ds });
  await pool.query('INSERT INTO staging.orders_keys_20300112 (order_id) SELECT order_id FROM staging.orders_20300112 WHERE source_line < 40');
  const withFalse = await runActivity(acts.transform, {
    ds,
    rowCount: extracted.rowCount,
    stagedRows: extracted.stagedRows,
    stagedRejects: extracted.stagedRejects,
    keyCandidates: extracted.keyCandidates! + (await count(pool, 'SELECT count(*) AS n FROM staging.orders_20300112 WHERE source_line < 40')),
  });
  assert.deepEqual(withFalse, searched.transformed);
  const rejects = await pool.query('SELECT line, rule, reason, raw FROM staging.orders_rejected_20300112 ORDER BY line');
  assert.deepEqual(rejects.rows, searched.rejects);
  assert.ok(searched.rejects.some((r: { reason: string }) => /^duplicate order_id 'K-[0-9]+' \(first at line [0-9]+\)$/.test(r.reason)));
});

test('a header-only file stages zero rows', async () => {
  const ds = '2030-01-08';
  await writeRaw(ds, `${HEADER}\n`);
  assert.equal((await runActivity(acts.extract, { ds })).rowCount, 0);
});

test('extract heartbeats its progress in bytes', async () => {
  const ds = '2030-01-09';
  await writeRaw(ds, `${HEADER}\n1,1,${ds},1.00,a\n`);
  const env = mockActivityEnv();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  await env.run(acts.extract, { ds });
  assert.ok(beats.length >= 1);
  assert.equal((beats[0] as { of: number }).of, HEADER.length + 1 + `1,1,${ds},1.00,a\n`.length);
});

test("extract_from_db: the day's rows of source.orders on a named connection go through the same checks", async () => {
  const ds = '2030-01-10';
  const seeded = await seedSourceOrders(pool, { ds, rows: 1000, badRate: 0.02 });
  assert.deepEqual(seeded, { ds, rows: 1000, badRows: 20, expectedLoaded: 980, expectedRejected: 20 });
  // Another day's rows stay where they are.
  await seedSourceOrders(pool, { ds: '2030-01-11', rows: 7, badRate: 0 });

  const extracted = await runActivity(acts.extractFromDb, { ds, connId: 'postgres_prod' });
  assert.equal(extracted.rowCount, 1000);
  assert.deepEqual(extracted.lines, { lines: 1001, header: 1, blank: 0, records: 1000, recordLines: 1000, malformed: 0 });
  const transformed = await runActivity(acts.transform, {
    ds,
    rowCount: extracted.rowCount,
    stagedRows: extracted.stagedRows,
    stagedRejects: extracted.stagedRejects,
    keyCandidates: extracted.keyCandidates,
  });
  assert.deepEqual([transformed.cleanRows, transformed.rejectedRows], [980, 20]);
  const loaded = await runActivity(acts.load, { ds, rowCount: 1000, cleanRows: 980, rejectedRows: 20 });
  assert.deepEqual([loaded.loadedRows, loaded.rejectedRows], [980, 20]);
  await runActivity(acts.validate, { ds, rowCount: 1000, lines: extracted.lines });

  const reasons = await pool.query<{ reason: string; n: string }>(
    `SELECT regexp_replace(reason, '[0-9]+', 'N', 'g') AS reason, count(*) AS n FROM warehouse.orders_rejected WHERE ds = $1 GROUP BY 1 ORDER BY 1`,
    [ds],
  );
  assert.deepEqual(
    reasons.rows.map((r) => [r.reason, Number(r.n)]),
    [
      ["amount '-N.N' breaks the rule amount >= N", 5],
      ["duplicate order_id 'N' (first at line N)", 5],
      ['order_id is required, found an empty value', 5],
      ['status is required, found an empty value', 5],
    ],
  );
  // The same revenue as the source's good rows.
  const { rows } = await pool.query<{ loaded: string; source: string }>(
    `SELECT (SELECT sum(amount) FROM warehouse.orders WHERE ds = $1) AS loaded,
            (SELECT sum(amount) FROM (SELECT DISTINCT ON (order_id) order_id, amount FROM source.orders
              WHERE "date" = $1 AND order_id IS NOT NULL AND amount >= 0 AND status IS NOT NULL ORDER BY order_id, customer_id, amount, status) AS first) AS source`,
    [ds],
  );
  assert.equal(rows[0].loaded, rows[0].source);
});

test('extract_from_db: a missing source table or connection fails at once, naming it', async () => {
  const noTable = tasksWith({ elsewhere: config.databaseUrl.replace(/\/[^/?]+(\?|$)/, '/postgres$1') });
  await nonRetryable(
    runActivity(noTable.extractFromDb, { ds: '2030-01-12', connId: 'elsewhere' }),
    'SourceQueryFailed',
    'extract_from_db on elsewhere: relation "source.orders" does not exist (Baton reads source.orders ("date" date, order_id, customer_id, amount, status))',
  );
  await nonRetryable(
    runActivity(acts.extractFromDb, { ds: '2030-01-12', connId: 'postgres_dev' }),
    'UnknownConnection',
    'unknown connection "postgres_dev": set BATON_CONN_POSTGRES_DEV to its URL',
  );
  await nonRetryable(
    runActivity(acts.extractFromDb, { ds: '2030-13-01', connId: 'postgres_prod' }),
    'InvalidLogicalDate',
    'ds "2030-13-01" is not a real calendar date',
  );
});
