/**
 * stageCsv reading a file in two parts at once (src/data/csv-split.ts), its second part in a
 * thread, against the real test database: files built so that what the reader must get right
 * sits on the middle of the file, where the split is looked for. Each is staged in two parts and
 * in one, and the two stagings must hold the same rows, rejects, lines and key candidates.
 */
import assert from '../support/assert';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { migrateWarehouse } from '../../activities/warehouse';
import { stageCsv, type StagedCsv } from '../../src/data/csv-load';
import { openDataFile } from '../../src/data/data-dir';
import { windowBytes } from '../../src/data/csv-split';
import { DEFAULT_MAX_RECORD_BYTES } from '../../src/data/csv';
import { ORDERS_CONTRACT } from '../../workflows/dags/orders_daily_etl/contract';
import { createDayTable } from '../../workflows/dags/orders_daily_etl/warehouse';
import { tempDir, testConfig, testPool } from '../support';

const config = testConfig();
const pool = testPool(config);
let dir: string;
const DS = '2030-02-03';
const HEADER = 'order_id,customer_id,order_date,amount,status';

beforeAll(async () => {
  dir = await tempDir();
  await migrateWarehouse(pool);
});
afterAll(() => pool.end());

/** `n` good rows from id `from` on, each ending with `eol`. */
const rows = (from: number, n: number, eol = '\n') =>
  Array.from({ length: n }, (_, i) => `A-${from + i},c${(from + i) % 977},${DS},${((from + i) % 5000) / 100},shipped${eol}`).join('');

/** Stages `file` in one part or two into tables of its own; the result and every row of both tables. */
async function stage(file: string, parts: 1 | 2) {
  const opened = await openDataFile(dir, file, (f) => `missing ${f}`);
  const t = { good: `staging.split_${parts}_good`, bad: `staging.split_${parts}_bad`, keys: `staging.split_${parts}_keys` };
  try {
    const staged = await stageCsv({
      pool,
      source: opened,
      name: file,
      contract: ORDERS_CONTRACT,
      ds: DS,
      goodTable: { name: t.good, create: (client) => createDayTable(client, DS, t.good) },
      rejectsTable: t.bad,
      keyCandidates: t.keys,
      splitFromBytes: parts === 2 ? 0 : Infinity,
    });
    await opened.checkUnchanged();
    const good = await pool.query(
      `SELECT order_id, customer_id, order_date::text, amount::text, status, source_line, source_lines FROM ${t.good} ORDER BY source_line`,
    );
    const bad = await pool.query(`SELECT line, lines, rule, reason, raw FROM ${t.bad} ORDER BY line`);
    const keys = await pool.query(`SELECT order_id FROM ${t.keys} ORDER BY order_id`);
    return { staged, good: good.rows, bad: bad.rows, keys: keys.rows.map((r: { order_id: string }) => r.order_id) };
  } finally {
    await opened.handle.close();
  }
}

/** Stages `body` both ways: the same outcome, and where the second part began. */
async function bothWays(name: string, body: string): Promise<{ staged: StagedCsv; bad: Array<Record<string, unknown>>; keys: string[] }> {
  await writeFile(path.join(dir, name), body);
  const one = await stage(name, 1);
  const two = await stage(name, 2);
  assert.equal(one.staged.split, undefined);
  assert.ok(two.staged.split, `${name} was read in one part`);
  const { split, keyCandidates: _k1, ...stagedTwo } = two.staged;
  const { keyCandidates: _k2, ...stagedOne } = one.staged;
  assert.deepEqual(stagedTwo, stagedOne);
  assert.deepEqual(two.good, one.good);
  assert.deepEqual(two.bad, one.bad);
  // The filter is shared by the threads: a key seen in both parts is a candidate either way (a false candidate may differ).
  const repeated = (keys: string[]) => keys.filter((k) => one.good.filter((g: { order_id: string }) => g.order_id === k).length > 1);
  assert.deepEqual(repeated(two.keys), repeated(one.keys));
  assert.equal(split!.line, body.slice(0, split!.at).split('\n').length);
  return { staged: two.staged, bad: two.bad, keys: two.keys };
}

const WINDOW = windowBytes(DEFAULT_MAX_RECORD_BYTES);
/** Rows enough for `bytes` of file. */
const rowsFor = (bytes: number) => Math.ceil(bytes / rows(100000, 1).length);

test('a clean file in two parts: split at the first line start past the middle, with a key seen in both parts', async () => {
  const half = rowsFor(1.5 * WINDOW);
  const body = `${HEADER}\n${rows(100000, half)}A-100007,dup,${DS},1.00,shipped\n${rows(100000 + half, half)}`;
  const { staged, keys, bad } = await bothWays('clean.csv', body);
  const middle = Math.floor(Buffer.byteLength(body) / 2);
  assert.equal(staged.split!.at, body.indexOf('\n', middle - 1) + 1);
  assert.equal(staged.records, 2 * half + 1);
  assert.ok(keys.includes('A-100007'), 'the repeated id is a key candidate');
  assert.deepEqual(bad, []);
});

test('a quoted line break on the middle: the split waits for a window without quotes after it', async () => {
  const head = `${HEADER}\n${rows(100000, rowsFor(1.5 * WINDOW))}`;
  const quoted = `Q-1,"two\nlines",${DS},1.00,shipped\n`;
  // Rows after it until the middle of the file falls inside the quoted field.
  let tail = '';
  for (let id = 200000; tail.length <= head.length - quoted.length; id++) tail += rows(id, 1);
  const body = head + quoted + tail;
  const middle = Math.floor(body.length / 2);
  assert.ok(head.length < middle && middle < head.length + quoted.length, 'the middle is inside the quoted record');
  const { staged } = await bothWays('quoted.csv', body);
  // The first line start whose window (WINDOW bytes before it) begins past the closing quote.
  const closing = body.indexOf('lines"') + 5;
  assert.equal(staged.split!.at, body.indexOf('\n', closing + WINDOW) + 1);
  assert.equal(staged.loadedLines, staged.loaded + 1);
});

test('a stray quote before the middle costs its record in two parts as in one', async () => {
  const half = rowsFor(1.5 * WINDOW);
  const body = `${HEADER}\n${rows(100000, half - 3)}S-1,"stray,${DS},1.00,shipped\n${rows(200000, half + 3)}`;
  const { staged, bad } = await bothWays('stray.csv', body);
  assert.ok(staged.split!.at >= body.indexOf('"stray') + WINDOW);
  assert.equal(bad.length, 1);
  assert.match(String(bad[0].reason), /unbalanced quote/);
  assert.equal(bad[0].line, half - 1);
});

test('CRLF line ends: the split falls after an LF, the CR stays with its line', async () => {
  const half = rowsFor(1.5 * WINDOW);
  const body = `${HEADER}\r\n${rows(100000, 2 * half, '\r\n')}`;
  const { staged } = await bothWays('crlf.csv', body);
  assert.equal(body[staged.split!.at - 1], '\n');
  assert.equal(body[staged.split!.at - 2], '\r');
  assert.equal(staged.loaded, 2 * half);
});

test('a record over 1 MiB across the middle is rejected as too long in two parts as in one', async () => {
  const before = rowsFor(WINDOW);
  const long = `L-1,c1,${DS},1.00,${'x'.repeat(DEFAULT_MAX_RECORD_BYTES + 100)}\n`;
  const body = `${HEADER}\n${rows(100000, before)}${long}${rows(300000, rowsFor(1.5 * WINDOW))}`;
  const middle = Math.floor(body.length / 2);
  assert.ok(body.indexOf('L-1') < middle && middle < body.indexOf('L-1') + long.length, 'the long record is across the middle');
  const { staged, bad } = await bothWays('long.csv', body);
  assert.equal(staged.split!.at, body.indexOf('L-1') + long.length);
  assert.equal(bad.length, 1);
  assert.match(String(bad[0].reason), /longer than 1 MiB/);
  assert.equal(bad[0].line, before + 2);
});

test('a file with quotes everywhere near its middle is read in one part', async () => {
  const n = rowsFor(3 * WINDOW);
  const body = `${HEADER}\n${rows(100000, n).replace(/shipped/g, '"shipped"')}`;
  await writeFile(path.join(dir, 'quoted-all.csv'), body);
  const two = await stage('quoted-all.csv', 2);
  assert.equal(two.staged.split, undefined);
  assert.equal(two.staged.loaded, n);
});
