/**
 * The DuckDB activities of orders-etl refusing what they must: each bad input's exact error, a
 * staged file that vanished or changed, and a cancellation that stops DuckDB and leaves nothing.
 */
import assert from '../support/assert';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { CancelledFailure } from '@temporalio/common';
import { generateOrders } from '../../scripts/sample-orders';
import { nonRetryable, runActivity, mockActivityEnv } from '../support';
import { duckdbDataDir, HEADER } from '../support/duckdb';

const files = duckdbDataDir();

test('bad input fails non-retryably, naming the file, column or value', async () => {
  const empty = files.rawFile('2030-01-06');
  await files.writeRaw('2030-01-06', '');
  await nonRetryable(runActivity(files.acts.extractOrders, { startDate: '2030-01-06' }), 'EmptyFile', `${empty} is empty: not even a header`);

  const noAmount = files.rawFile('2030-01-07');
  await files.writeRaw('2030-01-07', 'order_id,customer_id,order_date,status\n1,2,2030-01-07,a\n');
  await nonRetryable(
    runActivity(files.acts.extractOrders, { startDate: '2030-01-07' }),
    'MissingColumn',
    `${noAmount}: missing column amount; expected order_id,customer_id,order_date,amount,status`,
  );
  await files.writeRaw('2030-01-07', 'order_id,order_date\n');
  await nonRetryable(
    runActivity(files.acts.extractOrders, { startDate: '2030-01-07' }),
    'MissingColumn',
    `${noAmount}: missing columns customer_id, amount, status; expected order_id,customer_id,order_date,amount,status`,
  );
  await files.writeRaw('2030-01-07', `${HEADER},amount\n`);
  await nonRetryable(
    runActivity(files.acts.extractOrders, { startDate: '2030-01-07' }),
    'DuplicateColumn',
    `${noAmount}: column amount appears more than once in the header; expected order_id,customer_id,order_date,amount,status`,
  );

  await nonRetryable(
    runActivity(files.acts.extractOrders, { startDate: '2030-01-08' }),
    'FileNotFound',
    `input file not found: ${files.rawFile('2030-01-08')} (orders-etl reads <data dir>/raw/orders_<startDate>.csv)`,
  );
  await nonRetryable(
    runActivity(files.acts.extractOrders, { startDate: '2024-02-30' }),
    'InvalidStartDate',
    'startDate "2024-02-30" is not a real calendar date',
  );
  await nonRetryable(
    runActivity(files.acts.extractOrders, { startDate: '../../etc' }),
    'InvalidStartDate',
    'startDate "../../etc" is not a date in the form YYYY-MM-DD',
  );

  await files.writeRaw('2030-01-09', `${HEADER}\n1,1,2030-01-09,1,a\n`);
  const extracted = await runActivity(files.acts.extractOrders, { startDate: '2030-01-09' });
  for (const target of ['../x', 'a/b', 'a\\b', '.hidden', '..', '', 'x'.repeat(129)]) {
    await nonRetryable(
      runActivity(files.acts.transformOrders, { input: extracted, target }),
      'InvalidTarget',
      `target ${JSON.stringify(target)} is not a plain file name: use letters, digits, _, - and . (not first, no ..), at most 128 characters`,
    );
    await nonRetryable(runActivity(files.acts.loadOrders, { input: extracted, target }), 'InvalidTarget', /^target .* is not a plain file name/);
  }
  for (const bad of ['../outside.parquet', '/etc/passwd', 'staging/../../x.parquet']) {
    await nonRetryable(
      runActivity(files.acts.transformOrders, { input: { ...extracted, path: bad }, target: 'x' }),
      'InvalidPath',
      `transformOrders: input path ${JSON.stringify(bad)} is not inside the data directory ${files.dataDir}`,
    );
  }
  // The clean step wants a staged extract, and load wants a clean file.
  await nonRetryable(
    runActivity(files.acts.loadOrders, { input: extracted, target: 'x' }),
    'WrongSchema',
    new RegExp(`^loadOrders: ${extracted.path.replace(/\./g, '\\.')} is not a clean orders file: not a Parquet file \\(`),
  );
  assert.equal(await stat(path.join(files.dataDir, 'processed', 'x.parquet')).catch(() => 'absent'), 'absent');
  await files.assertNoLeftovers();
});

test('a staged file that vanished or changed is refused, naming it', async () => {
  const startDate = '2030-01-10';
  await files.writeRaw(startDate, `${HEADER}\n1,1,${startDate},1,a\n`);
  const extracted = await runActivity(files.acts.extractOrders, { startDate });
  const file = path.join(files.dataDir, extracted.path);

  const copy = `${file}.bak`;
  await writeFile(copy, await readFile(file));
  await writeFile(file, Buffer.concat([await readFile(copy), Buffer.from('x')]));
  await nonRetryable(
    runActivity(files.acts.transformOrders, { input: extracted, target: 'orders_changed' }),
    'StagedFileChanged',
    `transformOrders: staged file ${extracted.path} changed since it was made: ${extracted.bytes + 1} bytes, expected ${extracted.bytes} bytes sha256 ${extracted.sha256}`,
  );
  await rm(file);
  await nonRetryable(
    runActivity(files.acts.transformOrders, { input: extracted, target: 'orders_vanished' }),
    'StagedFileMissing',
    `transformOrders: staged file ${extracted.path} is missing (${file}): run the task that made it again`,
  );
  await nonRetryable(
    runActivity(files.acts.loadOrders, { input: extracted, target: 'orders_vanished' }),
    'StagedFileMissing',
    /^loadOrders: staged file .* is missing/,
  );
  await rm(copy);
});

test('cancellation stops the read and interrupts DuckDB, and nothing is left behind', async () => {
  const startDate = '2030-01-11';
  await generateOrders({ ds: startDate, rows: 200_000, badRate: 0.01, file: files.rawFile(startDate) });
  // Mid-read: the numbering stops at its next chunk.
  const reading = mockActivityEnv();
  const steps: string[] = [];
  reading.on('heartbeat', (d: { step: string }) => {
    steps.push(d.step);
    if (d.step === 'read records') setTimeout(() => reading.cancel(), 5);
  });
  await assert.rejects(reading.run(files.acts.extractOrders, { startDate }), (err: unknown) => {
    assert.ok(err instanceof CancelledFailure, `expected a CancelledFailure, got ${String(err)}`);
    return true;
  });
  assert.deepEqual(steps.slice(0, 2), ['start', 'read records']);
  assert.deepEqual(await readdir(path.join(files.dataDir, 'staging', 'orders-etl', startDate)), []);

  // Mid-statement: DuckDB is interrupted.
  const extracted = await runActivity(files.acts.extractOrders, { startDate });
  const sorting = mockActivityEnv();
  sorting.on('heartbeat', (d: { step: string }) => {
    if (d.step === 'write clean rows') setTimeout(() => sorting.cancel(), 5);
  });
  await assert.rejects(sorting.run(files.acts.transformOrders, { input: extracted, target: 'orders_cancelled' }), (err: unknown) => {
    assert.ok(err instanceof CancelledFailure, `expected a CancelledFailure, got ${String(err)}`);
    return true;
  });
  assert.deepEqual(await readdir(path.join(files.dataDir, 'staging', 'orders-etl', 'orders_cancelled')), []);
  assert.equal(await stat(path.join(files.dataDir, 'processed', 'orders_cancelled.rejects.csv')).catch(() => 'absent'), 'absent');
  await files.assertNoLeftovers();
});
