import assert from '../support/assert';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { generateOrders } from '../../scripts/sample-orders';
import { tempDir } from '../support';

test('the generator writes exactly the rows and bad rows asked for, the same every time', async () => {
  const dir = await tempDir();
  const a = await generateOrders({ ds: '2024-03-01', rows: 1000, badRate: 0.035, seed: 7, file: path.join(dir, 'a.csv') });
  const b = await generateOrders({ ds: '2024-03-01', rows: 1000, badRate: 0.035, seed: 7, file: path.join(dir, 'b.csv') });
  assert.equal(a.badRows, 35);
  assert.equal(a.expectedLoaded, 965);
  assert.equal(a.expectedRejected, 35);
  assert.equal(
    Object.values(a.byKind).reduce((x, y) => x + y, 0),
    35,
  );
  assert.equal(a.byKind.missing_order_id, 5);
  assert.equal(a.byKind.duplicate_order_id, 5);
  const textA = await readFile(a.file, 'utf8');
  assert.equal(textA, await readFile(b.file, 'utf8'));
  assert.equal(a.expectedRevenue, b.expectedRevenue);
  const lines = textA.trimEnd().split('\n');
  assert.equal(lines.length, 1001);
  assert.equal(lines[0], 'order_id,customer_id,order_date,amount,status');
});

test('the generator rejects impossible options before writing anything', async () => {
  const dir = await tempDir();
  await assert.rejects(generateOrders({ ds: '2024-02-30', rows: 10, badRate: 0, file: path.join(dir, 'x.csv') }), {
    message: 'ds "2024-02-30" is not a real calendar date',
  });
  await assert.rejects(generateOrders({ ds: '2024-02-01', rows: 10, badRate: 2, file: path.join(dir, 'x.csv') }), {
    message: '--bad-rate must be between 0 and 1, got 2',
  });
});
