/**
 * The filter a CSV load keeps of its keys (src/data/repeated-keys.ts): every key that repeats an
 * earlier one is a candidate, few others are, and past its limit it gives up.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { CopyWriter } from '../../src/data/copy-writer';
import { filterWords, MAX_BYTES, RepeatedKeys, sharedFilter } from '../../src/data/repeated-keys';
import { prng } from '../../scripts/sample-orders';

/** Adds each key (its columns as COPY text) and returns the candidates' rows. */
function candidates(keys: string[][], filter = new RepeatedKeys()): string[] | undefined {
  const out = new CopyWriter();
  for (const key of keys) {
    out.length = 0;
    const spans = new Int32Array(2 * key.length);
    key.forEach((column, k) => {
      spans[2 * k] = out.length;
      out.utf8(column);
      spans[2 * k + 1] = out.length;
      out.byte(0x09);
    });
    filter.add(out.bytes, spans);
  }
  const found = filter.keys();
  if (!found) return undefined;
  const rows = found.rows.toString('utf8').split('\n').slice(0, -1);
  assert.equal(rows.length, found.count);
  return rows;
}

test('every repeat of a key is a candidate; a key seen once rarely is', () => {
  const random = prng(5);
  const keys = Array.from({ length: 120_000 }, () => [`ORD-${Math.floor(random() * 100_000)}`]);
  const times = new Map<string, number>();
  const repeats: string[] = [];
  for (const [k] of keys) {
    if (times.has(k)) repeats.push(k);
    times.set(k, (times.get(k) ?? 0) + 1);
  }
  const found = candidates(keys)!;
  // The filter misses no repeat: each key is a candidate at least as often as it repeats, and a
  // few more times (a key's first sight, or a key seen once, taken for a repeat).
  const foundTimes = new Map<string, number>();
  for (const k of found) foundTimes.set(k, (foundTimes.get(k) ?? 0) + 1);
  assert.deepEqual(
    [...times].filter(([k, n]) => (foundTimes.get(k) ?? 0) < n - 1),
    [],
  );
  assert.ok(found.every((k) => times.has(k)));
  assert.ok(found.length - repeats.length <= 30, `${found.length - repeats.length} false candidates of ${keys.length} keys`);
  assert.ok(repeats.length > 15_000);
});

test('a key of two columns is both columns, a TAB between', () => {
  const found = candidates([
    ['a', 'b'],
    ['ab', ''],
    ['a', 'b'],
    ['a', 'b\\tc'],
    ['a\\tb', 'c'],
    ['ab', ''],
  ]);
  assert.deepEqual(found, ['a\tb', 'ab\t']);
});

test('past its limit the filter gives up: no candidates, not some', () => {
  const one = ['k'.repeat(99)];
  assert.equal(
    candidates(
      Array.from({ length: 12 }, () => one),
      new RepeatedKeys(1000),
    ),
    undefined,
  );
  assert.equal(
    candidates(
      Array.from({ length: 11 }, () => one),
      new RepeatedKeys(1000),
    )?.length,
    10,
  );
  assert.equal(MAX_BYTES, 16 << 20);
});

test('the filter is sized to the input, and a small one full of keys still misses no repeat', () => {
  assert.deepEqual(
    [undefined, 0, 10 << 20, 47_530_428, 237_000_000, 10 * 2 ** 30].map((bytes) => filterWords(bytes)),
    [1 << 21, 1 << 16, 1 << 17, 1 << 19, 1 << 21, 1 << 21],
  );
  // 200,000 keys in the smallest filter: three keys a word, and every repeat still found.
  const random = prng(9);
  const keys = Array.from({ length: 200_000 }, () => [`K${Math.floor(random() * 150_000)}`]);
  const found = candidates(keys, new RepeatedKeys(MAX_BYTES, filterWords(0)))!;
  const times = new Map<string, number>();
  for (const [k] of keys) times.set(k, (times.get(k) ?? 0) + 1);
  const foundTimes = new Map<string, number>();
  for (const k of found) foundTimes.set(k, (foundTimes.get(k) ?? 0) + 1);
  assert.deepEqual(
    [...times].filter(([k, n]) => (foundTimes.get(k) ?? 0) < n - 1),
    [],
  );
  const repeats = keys.length - times.size;
  assert.ok(found.length > repeats, `${found.length} candidates, ${repeats} repeats`);
});

test('two filters on shared words (two parts of one file) find a key the other part saw', () => {
  const words = sharedFilter(filterWords(0));
  const first = candidates([['a'], ['b'], ['a']], new RepeatedKeys(MAX_BYTES, words));
  const second = candidates([['b'], ['c'], ['c']], new RepeatedKeys(MAX_BYTES, words));
  assert.deepEqual([first, second], [['a'], ['b', 'c']]);
});
