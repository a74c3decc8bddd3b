/**
 * The DuckDB activities of orders-etl in MockActivityEnvironment, on a temp data directory (no
 * services): every output read back with DuckDB for its exact rows and schema, the rejects
 * file line by line, counts that reconcile, atomic replacement, and 200,000 generated rows.
 */
import assert from '../support/assert';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { type FileRef } from '../../workflows/dags/orders-etl/tasks';
import { generateOrders } from '../../scripts/sample-orders';
import { runActivity, testNote } from '../support';
import { duckdbDataDir, HEADER, LOADED_SCHEMA, query, readParquet, readStaged, REJECTS_HEADER, STAGED_SCHEMA } from '../support/duckdb';

const files = duckdbDataDir();

test('known bad rows: dropped, rejected with line and reason, the rest loaded; counts reconcile', async () => {
  const startDate = '2030-01-01';
  const target = `orders_${startDate}`;
  const lines = [
    `\ufeff${HEADER}`, // 1, with a UTF-8 BOM
    '1,10,2030-01-01,10.50,shipped', // 2 kept
    ',11,2030-01-01,1.00,shipped', // 3 dropped: missing order_id
    '"",11,2030-01-01,1.00,shipped', // 4 dropped: empty order_id
    '  ,11,2030-01-01,1.00,shipped', // 5 kept: '  ' is not one of pandas' missing values
    '5,13,2030-01-01,twelve,shipped', // 6 rejected
    '6,13,2030-01-01,,pending', // 7 kept, amount NULL
    '7,14,2030-01-01,3.25,"delivered, late"', // 8 kept: quoted comma
    '8,15,2030-01-01,4,"multi\r\nline"', // 9-10 kept: quoted newline
    '9,15,2030-01-01,1.00', // 11 rejected: 4 fields
    '', // 12 blank: not a row
    '10,16,2030-01-01, 2.5 ,shipped', // 13 kept: 2.5
    '11,16,2030-01-01,1e999,shipped', // 14 rejected: out of range
    '12,16,2030-01-01,NaN,shipped', // 15 kept: pandas reads NaN as missing, amount NULL
    '13,"bad"quote,2030-01-01,1.00,shipped', // 16 kept: text after a closing quote is kept, as Python's csv does
    '14,17,2030-01-01,-3,returned', // 17 kept: negative amounts are transform_data's business no more than Prefect's
    '15,18,2030-01-01,"1,5",shipped', // 18 rejected: not a number
    ',19,2030-01-01,oops,shipped', // 19 dropped: order_id is checked first, as dropna runs before astype
    '16,20,2030-01-01,1.00,"unterminated', // 20 rejected: a quote open to the end of the file
  ];
  await files.writeRaw(startDate, lines.join('\r\n'));

  const extracted = await runActivity(files.acts.extractOrders, { startDate });
  assert.equal(extracted.rows, 17);
  // Quoted fields and CRLF: the CSV reader numbered this file, the contract's five columns in order.
  assert.match(extracted.path, /^staging\/orders-etl\/2030-01-01\/extract-[0-9a-f]{16}\.csv$/);
  assert.equal(extracted.path.slice(-20, -4), extracted.sha256.slice(0, 16));
  assert.deepEqual([extracted.fields, extracted.positions], [5, [0, 1, 2, 3, 4]]);
  const staged = await readStaged(await files.assertRef(extracted), extracted);
  assert.deepEqual(staged.schema, STAGED_SCHEMA);
  assert.deepEqual(
    staged.rows.map((r) => r.source_line),
    [2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14, 15, 16, 17, 18, 19, 20],
  );

  const t = await runActivity(files.acts.transformOrders, { input: extracted, target });
  assert.deepEqual([t.rowsIn, t.kept, t.dropped, t.rejected], [17, 9, 3, 5]);
  assert.equal(t.rowsIn, t.kept + t.dropped + t.rejected);
  assert.match(t.clean.path, /^staging\/orders-etl\/orders_2030-01-01\/clean-[0-9a-f]{16}\.parquet$/);
  assert.equal(t.clean.rows, 9);
  assert.deepEqual({ path: t.rejects.path, rows: t.rejects.rows }, { path: 'processed/orders_2030-01-01.rejects.csv', rows: 5 });
  assert.equal(
    await readFile(await files.assertRef(t.rejects), 'utf8'),
    [
      REJECTS_HEADER,
      `6,amount 'twelve' is not a number,5,13,2030-01-01,twelve,shipped,`,
      '11,"expected 5 fields, found 4",,,,,,"9,15,2030-01-01,1.00"',
      `14,amount '1e999' is out of range for a DOUBLE,11,16,2030-01-01,1e999,shipped,`,
      `18,"amount '1,5' is not a number",15,18,2030-01-01,"1,5",shipped,`,
      '20,unbalanced quote: a quoted field opened on line 20 is not closed before the end of the file,,,,,,"16,20,2030-01-01,1.00,""unterminated"',
      '',
    ].join('\n'),
  );

  const loaded = await runActivity(files.acts.loadOrders, { input: t.clean, target });
  assert.deepEqual({ path: loaded.path, rows: loaded.rows }, { path: 'processed/orders_2030-01-01.parquet', rows: 9 });
  const out = await readParquet(await files.assertRef(loaded));
  assert.deepEqual(out.schema, LOADED_SCHEMA);
  assert.deepEqual(out.rows, [
    { order_id: '1', customer_id: '10', order_date: '2030-01-01', amount: 10.5, status: 'shipped', source_line: 2 },
    { order_id: '  ', customer_id: '11', order_date: '2030-01-01', amount: 1, status: 'shipped', source_line: 5 },
    { order_id: '6', customer_id: '13', order_date: '2030-01-01', amount: null, status: 'pending', source_line: 7 },
    { order_id: '7', customer_id: '14', order_date: '2030-01-01', amount: 3.25, status: 'delivered, late', source_line: 8 },
    { order_id: '8', customer_id: '15', order_date: '2030-01-01', amount: 4, status: 'multi\r\nline', source_line: 9 },
    { order_id: '10', customer_id: '16', order_date: '2030-01-01', amount: 2.5, status: 'shipped', source_line: 13 },
    { order_id: '12', customer_id: '16', order_date: '2030-01-01', amount: null, status: 'shipped', source_line: 15 },
    { order_id: '13', customer_id: 'badquote', order_date: '2030-01-01', amount: 1, status: 'shipped', source_line: 16 },
    { order_id: '14', customer_id: '17', order_date: '2030-01-01', amount: -3, status: 'returned', source_line: 17 },
  ]);
  // Prefect's three log lines.
  for (const line of ['Extracting from 2030-01-01', 'Transforming 17 rows', 'Loaded 9 rows to orders_2030-01-01']) {
    assert.ok(
      files.logs.some((l) => l.msg === line),
      line,
    );
  }
  assert.deepEqual(await readdir(path.join(files.dataDir, 'processed')), ['orders_2030-01-01.parquet', 'orders_2030-01-01.rejects.csv']);
  await files.assertNoLeftovers();
});

test('a header-only file gives empty files with the full schema all the way through', async () => {
  for (const [startDate, body] of [
    ['2030-01-02', `${HEADER}\n`],
    ['2030-01-03', HEADER],
  ]) {
    const target = `orders_${startDate}`;
    await files.writeRaw(startDate, body);
    const extracted = await runActivity(files.acts.extractOrders, { startDate });
    assert.equal(extracted.rows, 0);
    assert.deepEqual(await readStaged(await files.assertRef(extracted), extracted), { schema: STAGED_SCHEMA, rows: [] });
    const t = await runActivity(files.acts.transformOrders, { input: extracted, target });
    assert.deepEqual([t.rowsIn, t.kept, t.dropped, t.rejected], [0, 0, 0, 0]);
    assert.equal(await readFile(await files.assertRef(t.rejects), 'utf8'), `${REJECTS_HEADER}\n`);
    const loaded = await runActivity(files.acts.loadOrders, { input: t.clean, target });
    assert.equal(loaded.rows, 0);
    assert.deepEqual(await readParquet(await files.assertRef(loaded)), { schema: LOADED_SCHEMA, rows: [] });
  }
});

/** transform's outputs for a day: the clean rows and the rejects file's text. */
async function sorted(startDate: string, target: string) {
  const extracted = await runActivity(files.acts.extractOrders, { startDate });
  const t = await runActivity(files.acts.transformOrders, { input: extracted, target });
  return {
    extracted,
    counts: [t.rowsIn, t.kept, t.dropped, t.rejected],
    clean: (await readParquet(await files.assertRef(t.clean))).rows,
    rejects: await readFile(await files.assertRef(t.rejects), 'utf8'),
  };
}

test('a plain file takes the fast path, its doubtful rows staged apart, and sorts exactly as the reader would read it', async () => {
  const lines = [
    `\ufeff${HEADER.split(',').reverse().join(',')}`, // 1: a BOM, the columns in another order
    'shipped,10.50,2030-02-01,10,1', // 2 kept, surely
    'shipped,1.00,2030-02-01,11,', // 3 dropped: no order_id
    'shipped,1.00,2030-02-01,11,NA', // 4 dropped: pandas' NA
    'shipped,twelve,2030-02-01,13,5', // 5 rejected
    'pending,,2030-02-01,13,6', // 6 kept, amount NULL, surely
    '', // 7 blank
    'shipped,1.00,2030-02-01', // 8 malformed: 3 fields
    'shipped, 2.5 ,2030-02-01,16,10', // 9 kept: not surely (spaces), judged in SQL
    `shipped,${'9'.repeat(400)},2030-02-01,16,11`, // 10 rejected: out of range for a DOUBLE
    'shipped,NaN,2030-02-01,16,12', // 11 kept, amount NULL, not surely
    'shipped,5.,2030-02-01,16,13', // 12 kept, surely
    'returned,-3,2030-02-01,17,14', // 13 kept, not surely
    'shipped,7,2030-02-01,18,  ', // 14 kept: '  ' is an order_id
    'x,1,2,3,4,5', // 15 malformed: 6 fields
  ];
  await files.writeRaw('2030-02-01', lines.join('\n'));
  // The same rows with one field quoted: the reader's path.
  await files.writeRaw('2030-02-02', lines.map((line, i) => (i === 1 ? line.replace('shipped', '"shipped"') : line)).join('\n'));

  const plain = await sorted('2030-02-01', 'orders_plain');
  const read = await sorted('2030-02-02', 'orders_read');
  assert.deepEqual([plain.extracted.fields, plain.extracted.positions], [5, [4, 3, 2, 1, 0]]);
  assert.deepEqual([read.extracted.fields, read.extracted.positions, read.extracted.unsure], [5, [0, 1, 2, 3, 4], undefined]);
  // Not vouched for: the two without an order_id, 'twelve', ' 2.5 ', 400 nines, NaN, -3, and the two malformed lines.
  assert.equal(plain.extracted.unsure?.rows, 9);
  assert.deepEqual(plain.counts, [13, 7, 2, 4]);
  assert.deepEqual(read.counts, plain.counts);
  assert.deepEqual(read.clean, plain.clean);
  assert.equal(read.rejects, plain.rejects);
  assert.deepEqual(
    plain.clean.map((r) => [r.source_line, r.order_id, r.amount]),
    [
      [2, '1', 10.5],
      [6, '6', null],
      [9, '10', 2.5],
      [11, '12', null],
      [12, '13', 5],
      [13, '14', -3],
      [14, '  ', 7],
    ],
  );
  assert.deepEqual(
    plain.rejects
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]),
    ['5', '8', '10', '15'],
  );
  await files.assertNoLeftovers();
});

test('columns are matched by name: a reordered header with an extra column loads the same rows', async () => {
  const startDate = '2030-01-04';
  await files.writeRaw(startDate, 'status,amount,order_id,note,order_date,customer_id\nshipped,1.25,1,"a, note",2030-01-04,10\n');
  const extracted = await runActivity(files.acts.extractOrders, { startDate });
  const t = await runActivity(files.acts.transformOrders, { input: extracted, target: 'orders_reordered' });
  const loaded = await runActivity(files.acts.loadOrders, { input: t.clean, target: 'orders_reordered' });
  assert.deepEqual((await readParquet(await files.assertRef(loaded))).rows, [
    { order_id: '1', customer_id: '10', order_date: '2030-01-04', amount: 1.25, status: 'shipped', source_line: 2 },
  ]);
  assert.ok(
    files.logs.some((l) => l.msg === 'extractOrders: ignoring columns that are not part of the orders schema' && JSON.stringify(l.extra) === '["note"]'),
  );
});

test('load replaces the target atomically: a rerun with other rows replaces it, no temp file stays', async () => {
  const startDate = '2030-01-05';
  const target = `orders_${startDate}`;
  const refs: FileRef[] = [];
  for (const body of [`${HEADER}\n1,1,${startDate},1.00,a\n2,1,${startDate},2.00,a\n`, `${HEADER}\n3,1,${startDate},3.00,b\n`]) {
    await files.writeRaw(startDate, body);
    const extracted = await runActivity(files.acts.extractOrders, { startDate });
    const t = await runActivity(files.acts.transformOrders, { input: extracted, target });
    refs.push(await runActivity(files.acts.loadOrders, { input: t.clean, target }));
  }
  assert.equal(refs[0].path, refs[1].path);
  assert.notEqual(refs[0].sha256, refs[1].sha256);
  const out = await readParquet(await files.assertRef(refs[1]));
  assert.deepEqual(
    out.rows.map((r) => [r.order_id, r.amount]),
    [['3', 3]],
  );
  // Loading the same clean file twice writes the same bytes.
  await files.writeRaw(startDate, `${HEADER}\n3,1,${startDate},3.00,b\n`);
  const again = await runActivity(files.acts.transformOrders, { input: await runActivity(files.acts.extractOrders, { startDate }), target });
  assert.equal((await runActivity(files.acts.loadOrders, { input: again.clean, target })).sha256, refs[1].sha256);
  await files.assertNoLeftovers();
});

test('200,000 generated rows: counts reconcile with the generator, in modest memory', async () => {
  const startDate = '2030-01-12';
  const target = `orders_${startDate}`;
  const seeded = await generateOrders({ ds: startDate, rows: 200_000, badRate: 0.01, file: files.rawFile(startDate) });
  const rssBefore = process.memoryUsage().rss;
  const timings: string[] = [];
  const timed = async <R>(name: string, work: () => Promise<R>): Promise<R> => {
    const started = performance.now();
    const result = await work();
    timings.push(`${name} ${Math.round(performance.now() - started)} ms`);
    return result;
  };

  const extracted = await timed('extract', () => runActivity(files.acts.extractOrders, { startDate }));
  const tr = await timed('transform', () => runActivity(files.acts.transformOrders, { input: extracted, target }));
  const loaded = await timed('load', () => runActivity(files.acts.loadOrders, { input: tr.clean, target }));

  // Rows the generator made bad in a way transform_data sees: no order_id is dropped; a
  // non-numeric amount or a missing column is rejected. Prefect's flow checks nothing else.
  const dropped = seeded.byKind.missing_order_id;
  const rejected = seeded.byKind.amount_not_a_number + seeded.byKind.missing_column;
  assert.equal(extracted.rows, 200_000);
  assert.deepEqual([tr.rowsIn, tr.kept, tr.dropped, tr.rejected], [200_000, 200_000 - dropped - rejected, dropped, rejected]);
  assert.equal(loaded.rows, tr.kept);
  await files.assertRef(loaded);
  const [check] = await query(
    `SELECT count(*) AS n, count(*) FILTER (WHERE order_id IS NULL) AS null_ids, typeof(any_value(amount)) AS amount_type,
            count(DISTINCT source_line) AS lines, min(source_line) AS first_line, max(source_line) AS last_line
     FROM read_parquet($1)`,
    [path.join(files.dataDir, loaded.path)],
  );
  assert.deepEqual(check, { n: String(tr.kept), null_ids: '0', amount_type: 'DOUBLE', lines: String(tr.kept), first_line: '2', last_line: '200001' });
  const reasons = await query(
    `SELECT regexp_replace(reason, '[0-9]+', 'N', 'g') AS reason, count(*) AS n FROM read_csv($1, all_varchar = true) GROUP BY 1 ORDER BY 1`,
    [path.join(files.dataDir, tr.rejects.path)],
  );
  assert.deepEqual(reasons, [
    { reason: "amount 'twelve' is not a number", n: String(seeded.byKind.amount_not_a_number) },
    { reason: 'expected N fields, found N', n: String(seeded.byKind.missing_column) },
  ]);
  await files.assertNoLeftovers();

  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  testNote(`${timings.join(', ')}; rss ${mib(rssBefore)} before, ${mib(process.memoryUsage().rss)} after, max ${mib(process.resourceUsage().maxRSS * 1024)}`);
});
