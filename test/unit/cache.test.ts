/**
 * The task cache against the real test database: keys from inputs (and the input file's
 * content with inputs+file), hits, misses, expiry by the time the workflow passes in, a
 * vanished result file, and --refresh-cache.
 */
import assert from '../support/assert';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { canonicalJson, createCacheActivities } from '../../activities/cache';
import { sha256File } from '../../src/data/data-dir';
import { migrateWarehouse } from '../../activities/warehouse';
import type { CacheLookupInput, CacheLookupResult, CacheStoreInput, FileRef } from '../../src/contracts';
import { quietLogger, tempDir, testPool, mockActivityEnv } from '../support';

const pool = testPool();
let dataDir: string;
let cache: ReturnType<typeof createCacheActivities>;
// Each run of this file has tasks of its own: the cache table outlives test runs.
const task = `test-extract-${randomUUID().slice(0, 8)}`;
const HOUR = 60 * 60 * 1000;

beforeAll(async () => {
  await migrateWarehouse(pool);
  dataDir = await tempDir();
  await mkdir(path.join(dataDir, 'raw'), { recursive: true });
  await mkdir(path.join(dataDir, 'staging'), { recursive: true });
  cache = createCacheActivities({ pool, logger: quietLogger, config: { dataDir } });
});
afterAll(async () => {
  await pool.query('DELETE FROM baton.task_cache WHERE task LIKE $1', [`${task}%`]);
  await pool.end();
});

const lookup = (input: Partial<CacheLookupInput>): Promise<CacheLookupResult> =>
  mockActivityEnv().run(cache.cacheLookup, {
    task,
    policy: 'inputs+file',
    inputs: { startDate: '2024-06-01' },
    inputFile: 'raw/in.csv',
    now: Date.now(),
    ...input,
  } as CacheLookupInput);
const store = (input: Omit<CacheStoreInput, 'task'>): Promise<{ expiresAt: string }> => mockActivityEnv().run(cache.cacheStore, { task, ...input });

async function storedResult(name: string, content: string): Promise<FileRef> {
  const file = path.join(dataDir, 'staging', name);
  await writeFile(file, content);
  return { path: `staging/${name}`, rows: 2, bytes: Buffer.byteLength(content), sha256: await sha256File(file) };
}

test('canonical JSON: the same inputs in any key order give the same text', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('miss, store, hit; a changed input file is a miss with inputs+file and a hit with inputs', async () => {
  await writeFile(path.join(dataDir, 'raw', 'in.csv'), 'order_id\n1\n');
  const now = Date.now();
  const first = await lookup({ now });
  assert.equal(first.status, 'miss');
  assert.equal(first.reason, 'no entry');
  assert.match(first.key, /^[0-9a-f]{64}$/);
  const result = await storedResult('a.parquet', 'parquet bytes');
  const stored = await store({ key: first.key, policy: 'inputs+file', inputs: { startDate: '2024-06-01' }, result, now, expiresInMs: HOUR });
  assert.equal(stored.expiresAt, new Date(now + HOUR).toISOString());

  const hit = await lookup({ now: now + 1000 });
  assert.deepEqual(hit, {
    key: first.key,
    status: 'hit',
    fileSha256: first.fileSha256,
    storedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + HOUR).toISOString(),
    result,
  });

  // Other inputs: another key.
  assert.equal((await lookup({ inputs: { startDate: '2024-06-02' } })).status, 'miss');

  // The same inputs with a changed file: inputs+file misses, inputs (task_input_hash) still hits.
  const byInputs = await lookup({ policy: 'inputs' });
  await store({ key: byInputs.key, policy: 'inputs', inputs: { startDate: '2024-06-01' }, result, now, expiresInMs: HOUR });
  await writeFile(path.join(dataDir, 'raw', 'in.csv'), 'order_id\n1\n2\n');
  const changed = await lookup({});
  assert.equal(changed.status, 'miss');
  assert.notEqual(changed.key, first.key);
  assert.equal((await lookup({ policy: 'inputs' })).status, 'hit');
});

test('an entry past its expiry is expired; a vanished or changed result file is a miss, not a crash', async () => {
  await writeFile(path.join(dataDir, 'raw', 'in.csv'), 'order_id\n7\n');
  const now = Date.now();
  const { key } = await lookup({ now });
  const result = await storedResult('b.parquet', 'more parquet bytes');
  await store({ key, policy: 'inputs+file', inputs: { startDate: '2024-06-01' }, result, now, expiresInMs: HOUR });

  const expired = await lookup({ now: now + HOUR });
  assert.equal(expired.status, 'expired');
  assert.equal(expired.reason, `expired at ${new Date(now + HOUR).toISOString()}`);
  assert.equal((await lookup({ now: now + HOUR - 1 })).status, 'hit');

  await writeFile(path.join(dataDir, result.path), 'truncated');
  assert.deepEqual(pick(await lookup({ now }), 'status', 'reason'), { status: 'vanished', reason: `cached file ${result.path} is changed` });
  await rm(path.join(dataDir, result.path));
  assert.deepEqual(pick(await lookup({ now }), 'status', 'reason'), { status: 'vanished', reason: `cached file ${result.path} is gone` });

  // A file the result refers to beside its own (a staged extract's doubtful rows): gone, the entry is too.
  const main = await storedResult('e.csv', 'rows');
  const beside = await storedResult('e-unsure.csv', 'few rows');
  await store({ key, policy: 'inputs+file', inputs: { startDate: '2024-06-01' }, result: { ...main, unsure: beside } as FileRef, now, expiresInMs: HOUR });
  assert.equal((await lookup({ now })).status, 'hit');
  await rm(path.join(dataDir, beside.path));
  assert.deepEqual(pick(await lookup({ now }), 'status', 'reason'), { status: 'vanished', reason: `cached file ${beside.path} is gone` });
});

test('--refresh-cache bypasses the entry but keeps the key, so the fresh result replaces it', async () => {
  await writeFile(path.join(dataDir, 'raw', 'in.csv'), 'order_id\n9\n');
  const now = Date.now();
  const { key } = await lookup({ now });
  const result = await storedResult('c.parquet', 'c');
  await store({ key, policy: 'inputs+file', inputs: { startDate: '2024-06-01' }, result, now, expiresInMs: HOUR });
  const refreshed = await lookup({ now, refresh: true });
  assert.deepEqual(pick(refreshed, 'key', 'status'), { key, status: 'refresh' });
  const fresh = await storedResult('d.parquet', 'dd');
  await store({ key, policy: 'inputs+file', inputs: { startDate: '2024-06-01' }, result: fresh, now: now + 5, expiresInMs: HOUR });
  assert.deepEqual((await lookup({ now: now + 10 })).result, fresh);
  assert.equal(Number((await pool.query('SELECT count(*) AS n FROM baton.task_cache WHERE cache_key = $1', [key])).rows[0].n), 1);
});

test('a missing input file is a miss (the task then names it); a path out of the data directory is refused', async () => {
  assert.deepEqual(await lookup({ inputFile: 'raw/none.csv' }), { key: '', status: 'miss', reason: 'input file raw/none.csv not found' });
  await assert.rejects(lookup({ inputFile: '../../etc/passwd' }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'InvalidPath');
    assert.equal(err.nonRetryable, true);
    assert.equal(err.message, `path ../../etc/passwd leaves the data directory ${path.resolve(dataDir)}${path.sep}`);
    return true;
  });
});

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, value[k]])) as Pick<T, K>;
}
