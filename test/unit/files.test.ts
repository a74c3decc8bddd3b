import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { checkHeader, NumberedCsvRecords, ordersRawFile, readFirstLine } from '../../activities/files';
import { tempDir } from '../support';

async function numbered(input: Buffer | string, chunkSize?: number): Promise<{ out: string; stats: NumberedCsvRecords['stats'] }> {
  const data = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const chunks: Buffer[] = [];
  const size = chunkSize ?? data.length;
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
  const transform = new NumberedCsvRecords(5);
  const parts: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks).pipe(transform).on('data', (b: Buffer) => parts.push(b)).on('end', resolve).on('error', reject);
  });
  return { out: Buffer.concat(parts).toString('utf8'), stats: transform.stats };
}

const HEADER = 'order_id,customer_id,order_date,amount,status\n';

test('numbers each record with its source line and drops the header', async () => {
  const { out, stats } = await numbered(`${HEADER}1,10,2024-01-15,9.99,shipped\n2,11,2024-01-15,5.00,pending\n`);
  assert.equal(out, '2,1,10,2024-01-15,9.99,shipped,,\n3,2,11,2024-01-15,5.00,pending,,\n');
  assert.deepEqual(stats, { records: 2, malformed: 0, bytes: 104 });
});

test('a quoted newline keeps one record and later line numbers stay physical', async () => {
  const { out } = await numbered(`${HEADER}1,10,2024-01-15,9.99,"ship\nped"\n2,11,2024-01-15,5.00,"a, b"\n`);
  assert.equal(out, '2,1,10,2024-01-15,9.99,"ship\nped",,\n4,2,11,2024-01-15,5.00,"a, b",,\n');
});

test('CRLF, a BOM, blank lines and a missing final newline', async () => {
  const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${HEADER.trim()}\r\n1,10,2024-01-15,9.99,x\r\n\r\n2,11,2024-01-15,5.00,y`)]);
  const { out, stats } = await numbered(input);
  assert.equal(out, '2,1,10,2024-01-15,9.99,x,,\n4,2,11,2024-01-15,5.00,y,,\n');
  assert.equal(stats.records, 2);
});

test('records that cannot be staged as is are kept with a reason, not dropped', async () => {
  const input = Buffer.concat([
    Buffer.from(`${HEADER}1,10,2024-01-15,9.99\n2,11,2024-01-15,5.00,y,extra\n3,1\0,2024-01-15,1.00,z\n`),
    Buffer.from([0x34, 0x2c, 0xff, 0xfe, 0x2c, 0x2c, 0x2c, 0x0a]),
    Buffer.from('5,1,2024-01-15,1.00,"open\n'),
  ]);
  const { out, stats } = await numbered(input);
  assert.equal(
    out,
    [
      '2,,,,,,"expected 5 fields, found 4","1,10,2024-01-15,9.99"',
      '3,,,,,,"expected 5 fields, found 6","2,11,2024-01-15,5.00,y,extra"',
      '4,,,,,,"contains a NUL byte","3,1\\0,2024-01-15,1.00,z"',
      '5,,,,,,"not valid UTF-8","4,\ufffd\ufffd,,,"',
      '6,,,,,,"unterminated quoted field","5,1,2024-01-15,1.00,""open\n"',
      '',
    ].join('\n'),
  );
  assert.equal(stats.malformed, 5);
});

test('the output does not depend on how the input is chunked', async () => {
  const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${HEADER}1,10,2024-01-15,9.99,"a\r\nb"\r\n2,11,2024-01-15,5,x,y\n3,1,2024-01-15,1.00,z`)]);
  const whole = await numbered(input);
  for (const size of [1, 2, 3, 7, 64]) assert.equal((await numbered(input, size)).out, whole.out, `chunks of ${size} bytes`);
});

test('header check names the file, the expected and the actual header', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'orders.csv');
  await writeFile(file, '\ufefforder_id,customer,order_date,amount,status\r\n1,2,3,4,5\n');
  const header = await readFirstLine(file);
  assert.equal(header, 'order_id,customer,order_date,amount,status');
  assert.throws(() => checkHeader(file, header), {
    message: `${file}: line 1: wrong header: expected "order_id,customer_id,order_date,amount,status", found "order_id,customer,order_date,amount,status"`,
  });
  assert.throws(() => checkHeader(file, ''), { message: `${file}: line 1: wrong header: expected "order_id,customer_id,order_date,amount,status", found (empty file)` });
  assert.doesNotThrow(() => checkHeader(file, 'order_id,customer_id,order_date,amount,status'));
});

test('the raw file path is built only from a valid ds', () => {
  assert.equal(ordersRawFile('/data', '2024-01-15'), '/data/raw/orders_2024-01-15.csv');
  assert.throws(() => ordersRawFile('/data', '../../etc/passwd'), { message: 'ds "../../etc/passwd" is not a date in the form YYYY-MM-DD' });
});
