/**
 * The CSV reader (src/data/csv.ts), the column contract (src/data/contract.ts) and the
 * data-directory guard (src/data/data-dir.ts), on exact inputs. The fuzz test (csv-fuzz.test.ts)
 * holds the reader against Python's csv module on generated files.
 */
import assert from '../support/assert';
import { appendFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { compileContract, matchHeader } from '../../src/data/contract';
import { CopyWriter } from '../../src/data/copy-writer';
import { readCsv, type CsvReadResult } from '../../src/data/csv';
import { confinedPath, openDataFile, sha256File } from '../../src/data/data-dir';
import { rawPath } from '../../workflows/dags/orders_daily_etl/warehouse';
import { ORDERS_CONTRACT } from '../../workflows/dags/orders_daily_etl/contract';
import { validateContract, type ColumnContract } from '../../src/column-contract';
import { CancelledFailure } from '@temporalio/common';
import { mockActivityEnv, tempDir } from '../support';

interface Read {
  rows: string[];
  account: CsvReadResult;
}

/** The reader's view of `input`, fed in chunks of `size` bytes: one line per record or reject. */
async function read(input: Buffer | string, size = 1 << 20, maxRecordBytes?: number): Promise<Read> {
  const data = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const rows: string[] = [];
  const chunks = async function* () {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  };
  const account = await readCsv(chunks(), {
    maxRecordBytes,
    header: (r, problem) => rows.push(`header ${r.line}: ${JSON.stringify(r.texts())}${problem ? ` (${problem})` : ''}`),
    record: (r) => rows.push(`${r.line}${r.lines > 1 ? `+${r.lines - 1}` : ''}: ${JSON.stringify(r.texts())}`),
    malformed: (line, kind, reason) => rows.push(`${line}: malformed ${kind}: ${reason}`),
  });
  return { rows, account };
}

const HEADER = 'order_id,customer_id,order_date,amount,status\n';

test('records keep their first physical line; quoted fields hold commas, line breaks and quotes', async () => {
  const input = `${HEADER}1,10,2024-01-15,9.99,"ship\nped"\n2,11,2024-01-15,5.00,"a, ""b"""\n`;
  const { rows, account } = await read(input);
  assert.deepEqual(rows, [
    'header 1: ["order_id","customer_id","order_date","amount","status"]',
    '2+1: ["1","10","2024-01-15","9.99","ship\\nped"]',
    '4: ["2","11","2024-01-15","5.00","a, \\"b\\""]',
  ]);
  assert.deepEqual(account, { lines: 4, header: 1, blank: 0, records: 2, recordLines: 3, malformed: 0, bytes: input.length });
});

test('a quote that does not open a field is a character; text after a closing quote is kept', async () => {
  const { rows } = await read('a,b,c\n3,C,shipped"\n4,"x"y,z\n5,a"b"c,"q"\n');
  assert.deepEqual(rows.slice(1), ['2: ["3","C","shipped\\""]', '3: ["4","xy","z"]', '4: ["5","a\\"b\\"c","q"]']);
});

test('one stray quote costs one record: 997 rows after it still load', async () => {
  const body = Array.from({ length: 1000 }, (_, i) => `${i + 1},7,2024-01-15,1.00,${i === 2 ? '"shipped' : 'shipped'}`).join('\n');
  const { rows, account } = await read(`${HEADER}${body}\n`, 4096);
  assert.equal(rows.filter((r) => r.includes('malformed')).length, 1);
  assert.equal(rows[3], '4: malformed unbalanced quote: unbalanced quote: a quoted field opened on line 4 is not closed before the end of the file');
  assert.deepEqual(account, { lines: 1001, header: 1, blank: 0, records: 999, recordLines: 999, malformed: 1, bytes: account.bytes });
});

test('a quoted field closed many lines later: the first line is rejected, the lines inside are read again', async () => {
  const { rows, account } = await read('a,b\n1,"x\n2,y\n3,z"\n4,w\n');
  // The quoted span 2-4 reads as two fields ("1" and "x\n2,y\n3,z"): a well-formed record of three lines.
  assert.deepEqual(rows.slice(1), ['2+2: ["1","x\\n2,y\\n3,z"]', '5: ["4","w"]']);
  assert.equal(account.lines, 5);
  const bad = await read('a,b,c\n1,"x\n2,y,1\n3,z",1,2\n4,w,1\n');
  assert.deepEqual(bad.rows.slice(1), [
    '2: malformed field count: expected 3 fields, found 4, reading lines 2-4 as one record (an unbalanced quote): only line 2 is rejected',
    '3: ["2","y","1"]',
    '4: malformed field count: expected 3 fields, found 4',
    '5: ["4","w","1"]',
  ]);
  assert.equal(bad.account.lines, bad.account.header + bad.account.blank + bad.account.recordLines + bad.account.malformed);
});

test('CRLF, a BOM, a quoted header, blank lines and a missing final newline', async () => {
  const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"order_id","customer_id"\r\n1,10\r\n\r\n\n2,11')]);
  for (const size of [1, 2, 3, 7, 1024]) {
    const { rows, account } = await read(input, size);
    assert.deepEqual(rows, ['header 1: ["order_id","customer_id"]', '2: ["1","10"]', '5: ["2","11"]'], `chunks of ${size} bytes`);
    assert.deepEqual(account, { lines: 5, header: 1, blank: 2, records: 2, recordLines: 2, malformed: 0, bytes: input.length });
  }
});

test('NUL bytes, lone CRs, invalid UTF-8 and wrong field counts are rejects with their line, never an error', async () => {
  const input = Buffer.concat([Buffer.from('a,b\n1,\0\n2,x\ry\n3,"q\rr"\n'), Buffer.from([0x34, 0x2c, 0xff, 0xfe, 0x0a]), Buffer.from('5\n6,7,8\n9,é\n')]);
  for (const size of [1, 5, 1024]) {
    const { rows, account } = await read(input, size);
    assert.deepEqual(rows.slice(1), [
      '2: malformed NUL byte: contains a NUL byte',
      '3: malformed lone CR: contains a carriage return (CR) that ends no line',
      '4: malformed lone CR: contains a carriage return (CR) that ends no line',
      '5: malformed invalid UTF-8: not valid UTF-8',
      '6: malformed field count: expected 2 fields, found 1',
      '7: malformed field count: expected 2 fields, found 3',
      '8: ["9","é"]',
    ]);
    assert.equal(account.lines, 8);
  }
});

test('a record over the size limit is rejected without holding it; a long unclosed quote costs one line', async () => {
  const { rows, account } = await read(`a,b\n1,${'x'.repeat(300)}\n2,"${'y\n'.repeat(200)}3,4\n5,6\n`, 64, 256);
  assert.deepEqual(rows.slice(0, 3), [
    'header 1: ["a","b"]',
    '2: malformed too long: record is longer than 256 bytes',
    '3: malformed unbalanced quote: unbalanced quote: a quoted field opened on line 3 runs past 256 bytes',
  ]);
  // Lines 4-202 (`y`) are read again, one field each: a reject each, never a loss.
  assert.deepEqual(rows.slice(-3), ['202: malformed field count: expected 2 fields, found 1', '203: ["3","4"]', '204: ["5","6"]']);
  assert.equal(account.lines, 204);
  assert.equal(account.lines, account.header + account.blank + account.recordLines + account.malformed);
});

test('an unclosed quote on line 2 of a large file: linear time, every later line read', async () => {
  const lines = 400_000;
  const body = `a,b\n1,"open\n${'2,x\n'.repeat(lines)}`;
  const started = performance.now();
  const { account } = await read(body, 1 << 20);
  const ms = performance.now() - started;
  assert.deepEqual(account, { lines: lines + 2, header: 1, blank: 0, records: lines, recordLines: lines, malformed: 1, bytes: body.length });
  assert.ok(ms < 20_000, `took ${ms} ms`);
});

const contract: ColumnContract = validateContract({
  header: 'exact',
  columns: [
    { name: 'id', type: 'text', maxLength: 8 },
    { name: 'n', type: 'integer', required: false },
    { name: 'amount', type: 'decimal(12,2)', rules: ['>= 0'] },
    { name: 'day', type: 'date', rules: ['= ds'] },
    { name: 'at', type: 'timestamp', required: false },
    { name: 'flag', type: 'boolean', required: false, nullValues: ['NULL'] },
  ],
  key: { columns: ['id'], keep: 'first' },
});

/** Each record of `body` through the contract: its COPY row or its reject. */
async function checked(body: string): Promise<string[]> {
  const out: string[] = [];
  let compiled: ReturnType<typeof compileContract> | undefined;
  const writer = new CopyWriter();
  await readCsv([Buffer.from(`id,n,amount,day,at,flag\n${body}`)], {
    header: (r) => (compiled = compileContract(contract, r.texts(), '2024-01-15')),
    record: (r) => {
      const reject = compiled!.write(r, writer);
      out.push(reject ? `${r.line}: ${reject.reason} [${reject.rule}]` : `${r.line}: ${writer.take().toString()}`);
    },
    malformed: () => undefined,
  });
  return out;
}

test('the contract checks each field where the reader split it and writes COPY text', async () => {
  const rows = await checked(
    [
      ' A-17 ,+42,.5,2024-01-15,2024-01-15 10:30:00,yes',
      'o11-412,,5.,2024-01-15,,NULL',
      '#1001,9223372036854775807,12.500,2024-01-15,2024-01-15T08:00,f',
      'x,1,1e3,2024-01-15,,',
      'y,1,-0.00,2024-01-15,,',
      'a\\b\tc,1,1.50E-1,2024-01-15,,',
    ].join('\n'),
  );
  assert.deepEqual(rows, [
    '2: A-17\t42\t.5\t2024-01-15\t2024-01-15 10:30:00\tt\t2\t1\n',
    '3: o11-412\t\\N\t5.\t2024-01-15\t\\N\t\\N\t3\t1\n',
    '4: #1001\t9223372036854775807\t12.500\t2024-01-15\t2024-01-15T08:00\tf\t4\t1\n',
    '5: x\t1\t1000\t2024-01-15\t\\N\t\\N\t5\t1\n',
    '6: y\t1\t-0.00\t2024-01-15\t\\N\t\\N\t6\t1\n',
    '7: a\\\\b\\tc\t1\t0.15\t2024-01-15\t\\N\t\\N\t7\t1\n',
  ]);
});

test("the key's COPY text is found where write put it: trimmed and escaped, as Postgres stores it; a key that may be NULL or is not text has none", async () => {
  const keys: string[] = [];
  let compiled: ReturnType<typeof compileContract> | undefined;
  const writer = new CopyWriter();
  await readCsv([Buffer.from('id,n,amount,day,at,flag\n A-17 ,1,1,2024-01-15,,\n"a\\b\tc",,2,2024-01-15,,\n')], {
    header: (r) => (compiled = compileContract(contract, r.texts(), '2024-01-15')),
    record: (r) => {
      assert.equal(compiled!.write(r, writer), undefined);
      keys.push(writer.bytes.toString('utf8', compiled!.keyText![0], compiled!.keyText![1]));
      writer.take();
    },
    malformed: () => undefined,
  });
  assert.deepEqual(keys, ['A-17', 'a\\\\b\\tc']);
  const optional = { ...contract, columns: contract.columns.map((c) => (c.name === 'id' ? { ...c, required: false } : c)) };
  assert.equal(compileContract(optional, ['id', 'n', 'amount', 'day', 'at', 'flag'], '2024-01-15').keyText, undefined);
  assert.equal(
    compileContract({ ...contract, key: { columns: ['id', 'day'], keep: 'first' } }, ['id', 'n', 'amount', 'day', 'at', 'flag'], '2024-01-15').keyText,
    undefined,
  );
});

test('every reject names the column, the value and the rule', async () => {
  const rows = await checked(
    [
      ',1,1,2024-01-15,,',
      'toolong-id,1,1,2024-01-15,,',
      'a,x1,1,2024-01-15,,',
      'a,9223372036854775808,1,2024-01-15,,',
      'a,1,NaN,2024-01-15,,',
      'a,1,Infinity,2024-01-15,,',
      'a,1,1.999,2024-01-15,,',
      'a,1,12345678901,2024-01-15,,',
      'a,1,-5,2024-01-15,,',
      'a,1,1,2024-01-16,,',
      'a,1,1,2024-02-30,,',
      'a,1,1,2024-01-15,2024-01-15 25:00,',
      'a,1,1,2024-01-15,,maybe',
    ].join('\n'),
  );
  assert.deepEqual(rows, [
    '2: id is required, found an empty value [id: required]',
    "3: id 'toolong-id' is 10 characters long, more than its maximum of 8 [id: max length 8]",
    "4: n 'x1' is not an integer [n: integer]",
    "5: n '9223372036854775808' does not fit integer (out of the bigint range) [n: integer]",
    "6: amount 'NaN' is not a decimal(12,2) [amount: decimal(12,2)]",
    "7: amount 'Infinity' is not a decimal(12,2) [amount: decimal(12,2)]",
    "8: amount '1.999' does not fit decimal(12,2) without losing digits (at most 10 before the point and 2 after) [amount: decimal(12,2)]",
    "9: amount '12345678901' does not fit decimal(12,2) without losing digits (at most 10 before the point and 2 after) [amount: decimal(12,2)]",
    "10: amount '-5' breaks the rule amount >= 0 [amount: >= 0]",
    "11: day '2024-01-16' breaks the rule day = ds (ds is 2024-01-15) [day: = ds]",
    "12: day '2024-02-30' is not a date (YYYY-MM-DD) [day: date]",
    "13: at '2024-01-15 25:00' is not a timestamp (YYYY-MM-DD HH:MM[:SS[.ffffff]]) [at: timestamp]",
    "14: flag 'maybe' is not a boolean (true/t/yes/y/1 or false/f/no/n/0) [flag: boolean]",
  ]);
});

test('a contract is checked before it is used; headers are matched exactly or by name', () => {
  assert.throws(() => validateContract({ header: 'exact', columns: [{ name: 'a', type: 'money' }] }), {
    message: 'column contract: column a: type "money" is not one of text, integer, decimal(p,s) (1 <= p <= 38, s <= p), date, timestamp, timestamptz, boolean',
  });
  assert.throws(() => validateContract({ header: 'exact', columns: [{ name: 'a', type: 'text', rules: ['>= 0'] }] }), {
    message: 'column contract: column a: rule ">= 0" does not apply to a text column (numbers compare with integer and decimal columns, ds with date columns)',
  });
  assert.throws(() => validateContract({ header: 'exact', columns: [{ name: 'a', type: 'text' }], key: { columns: ['b'], keep: 'first' } }), {
    message: 'column contract: key column b is not a column',
  });
  assert.deepEqual(matchHeader(ORDERS_CONTRACT, ['order_id', ' customer_id', 'order_date', 'amount', 'status ']), [0, 1, 2, 3, 4]);
  assert.throws(() => matchHeader(ORDERS_CONTRACT, ['customer_id', 'order_id', 'order_date', 'amount', 'status']), {
    message: 'wrong header: expected "order_id,customer_id,order_date,amount,status", found "customer_id,order_id,order_date,amount,status"',
  });
  assert.deepEqual(
    matchHeader({ ...ORDERS_CONTRACT, header: 'by-name' }, ['note, internal', 'status', 'amount', 'order_date', 'customer_id', 'order_id']),
    [5, 4, 3, 2, 1],
  );
  assert.throws(
    () => matchHeader(ORDERS_CONTRACT, ['x'.repeat(500)]),
    (err: Error) => err.message.length < 320,
  );
});

test('paths: built from a valid ds only, and a symlink out of the data directory is refused before a byte is read', async () => {
  assert.equal(rawPath('2024-01-15'), 'raw/orders_2024-01-15.csv');
  assert.throws(() => rawPath('../../etc/passwd'), { message: 'ds "../../etc/passwd" is not a date in the form YYYY-MM-DD' });
  const dir = await tempDir();
  const outside = await tempDir();
  await mkdir(path.join(dir, 'raw'));
  await writeFile(path.join(outside, 'secret.csv'), 'hunter2\n');
  await symlink(path.join(outside, 'secret.csv'), path.join(dir, 'raw', 'orders_2024-01-15.csv'));
  await symlink(outside, path.join(dir, 'linked'));
  await writeFile(path.join(dir, 'raw', 'orders_2024-01-16.csv'), HEADER);
  await symlink(path.join(dir, 'raw', 'orders_2024-01-16.csv'), path.join(dir, 'raw', 'inside.csv'));
  const refused = (relative: string) => ({
    message: `${path.join(dir, relative)} leads outside the data directory ${dir} (through a symlink): refused, nothing read`,
  });
  await assert.rejects(
    openDataFile(dir, 'raw/orders_2024-01-15.csv', () => 'missing'),
    (err: Error) => {
      assert.deepEqual({ message: err.message }, refused('raw/orders_2024-01-15.csv'));
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    },
  );
  await assert.rejects(confinedPath(dir, 'linked/secret.csv'), refused('linked/secret.csv'));
  await assert.rejects(confinedPath(dir, '../x'), { message: `path ../x leaves the data directory ${dir}${path.sep}` });
  assert.equal(await confinedPath(dir, 'raw/inside.csv'), path.join(dir, 'raw', 'orders_2024-01-16.csv'));
  assert.equal(await confinedPath(dir, 'raw/none.csv'), undefined);
});

test('a file that changes while it is read fails retryably, "changed while being read"', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'f.csv'), HEADER);
  const opened = await openDataFile(dir, 'f.csv', () => 'missing');
  try {
    for await (const chunk of opened.chunks()) assert.ok(chunk.length > 0);
    await opened.checkUnchanged();
    await appendFile(path.join(dir, 'f.csv'), '1,2,2024-01-15,3,x\n');
    await assert.rejects(opened.checkUnchanged(), (err: Error & { nonRetryable?: boolean; type?: string }) => {
      assert.equal(err.type, 'FileChanged');
      assert.equal(err.nonRetryable, false);
      assert.match(
        err.message,
        /f\.csv changed while being read \(46 bytes at .* when opened, 65 bytes at .* after; 46 bytes read\): read again once it is complete$/,
      );
      return true;
    });
  } finally {
    await opened.handle.close();
  }
});

test("a cancelled activity hashing a file fails with CancelledFailure, not the stream's AbortError", async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'staged.parquet');
  await writeFile(file, Buffer.alloc(4 << 20, 1));
  const env = mockActivityEnv();
  assert.equal(await env.run(() => sha256File(file)), await sha256File(file));
  env.cancel();
  await assert.rejects(
    env.run(() => sha256File(file)),
    (err: unknown) => {
      assert.ok(err instanceof CancelledFailure, `expected a CancelledFailure, got ${String(err)}`);
      return true;
    },
  );
});

test("CopyWriter writes a whole number's digits at every width, and a taken buffer stays as it was taken", () => {
  const values = [0, 7, 9, 10, 11, 99, 100, 999, 1000, 65535, 99999, 100000, 999999, 1000000, 9999999, 10000000, 123456789, 999999999];
  values.push(1000000000, 2147483647, 2147483648, 4294967296, 9007199254740991);
  const writer = new CopyWriter();
  for (const n of values) {
    writer.uint(n);
    writer.byte(0x0a);
  }
  assert.equal(writer.take().toString(), values.map((n) => `${n}\n`).join(''));
  // A full buffer is handed over, not copied: writing on cannot change it.
  const line = Buffer.from('x'.repeat(99) + '\n');
  for (let i = 0; i < 2000; i++) writer.plain(line, 0, line.length);
  const taken = writer.take();
  for (let i = 0; i < 2000; i++) writer.plain(Buffer.from('y'.repeat(99) + '\n'), 0, 100);
  assert.equal(taken.length, 200000);
  assert.equal(taken.toString(), line.toString().repeat(2000));
  assert.equal(writer.take().toString(), ('y'.repeat(99) + '\n').repeat(2000));
  assert.equal(writer.take().length, 0);
});

test('CopyWriter escapes backslash, tab, LF and CR as COPY reads them, in short fields and long ones', () => {
  const pieces = ['a', '\\', '\t', '\n', '\r', '\u0001', '\u000b', '\u000c', '\u001f', ' ', 'é', '日本', '😀', '~'];
  const expected = (text: string) => text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  const writer = new CopyWriter();
  let want = '';
  for (const length of [0, 1, 2, 5, 30, 63, 64, 65, 200]) {
    for (let round = 0; round < 20; round++) {
      let text = '';
      for (let i = 0; text.length < length; i++) text += pieces[(i * 7 + round * 3 + length) % pieces.length];
      const bytes = Buffer.from(`[${text}]`);
      writer.escaped(bytes, 1, bytes.length - 1);
      writer.byte(0x0a);
      want += `${expected(text)}\n`;
    }
  }
  assert.equal(writer.take().toString(), want);
});

test('a text maximum counts characters, not bytes: at the maximum passes, one more is refused', async () => {
  const rows = await checked(
    [
      '12345678,1,1,2024-01-15,,',
      '123456789,1,1,2024-01-15,,',
      'éééééééé,1,1,2024-01-15,,',
      'é日😀éé日😀é,1,1,2024-01-15,,',
      'éééééééééé,1,1,2024-01-15,,',
    ].join('\n'),
  );
  assert.deepEqual(
    rows.map((r) => r.split('\t')[0]),
    [
      '2: 12345678',
      "3: id '123456789' is 9 characters long, more than its maximum of 8 [id: max length 8]",
      '4: éééééééé',
      '5: é日😀éé日😀é',
      "6: id 'éééééééééé' is 10 characters long, more than its maximum of 8 [id: max length 8]",
    ],
  );
});
