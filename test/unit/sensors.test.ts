import assert from '../support/assert';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, test } from '@jest/globals';
import { createSensorActivities, type PokeResult, type SensorCheckResult } from '../../activities/sensors';
import { parameterizeSql } from '../../src/sdk/plain-templates';
import { tempDir, testPool, mockActivityEnv } from '../support';

const pool = testPool();
afterAll(() => pool.end());

test('checkFile: missing, settling, waiting for its marker, then found', async () => {
  const dataDir = await tempDir();
  await mkdir(path.join(dataDir, 'raw'));
  const { checkFile } = createSensorActivities({ config: { dataDir, connections: {} }, pool });
  const check = (settleSeconds: number, successMarker?: string): Promise<SensorCheckResult> =>
    mockActivityEnv().run(checkFile, { path: 'raw/orders.csv', settleSeconds, ...(successMarker ? { successMarker } : {}) });

  assert.deepEqual(await check(30), { found: false, reason: 'raw/orders.csv does not exist yet' });
  const file = path.join(dataDir, 'raw', 'orders.csv');
  await writeFile(file, 'order_id\n');
  const settling = await check(30);
  assert.equal(settling.found, false);
  assert.match(settling.reason ?? '', /^raw\/orders.csv changed 0s ago \(settles after 30s\)$/);
  assert.ok(settling.recheckAfterMs! > 29_000 && settling.recheckAfterMs! <= 30_100);
  const old = new Date(Date.now() - 60_000);
  await utimes(file, old, old);
  assert.deepEqual(await check(30), { found: true });
  assert.deepEqual(await check(30, '_SUCCESS'), { found: false, reason: 'no _SUCCESS beside raw/orders.csv yet' });
  await writeFile(path.join(dataDir, 'raw', '_SUCCESS'), '');
  assert.deepEqual(await check(30, '_SUCCESS'), { found: true });
  await assert.rejects(mockActivityEnv().run(checkFile, { path: '../../etc/passwd', settleSeconds: 0 }), /leaves the data directory/);
});

test('pokeFile resumes from its heartbeat: the time-out counts from the first check of the first attempt', async () => {
  const dataDir = await tempDir();
  const { pokeFile } = createSensorActivities({ config: { dataDir, connections: {} }, pool });
  const firstCheckAt = Date.now() - 10_000; // an earlier attempt started checking 10 s ago
  const env = mockActivityEnv({ heartbeatDetails: { firstCheckAt, checks: 7 } });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const started = Date.now();
  const result: PokeResult = await env.run(pokeFile, { file: { path: 'raw/never.csv', settleSeconds: 0 }, pokeIntervalMs: 200, timeoutMs: 10_500 });
  assert.equal(result.timedOut, true);
  assert.ok(Date.now() - started < 3_000, 'resumed the time-out instead of starting it again');
  assert.ok(result.checks > 7);
  assert.deepEqual(beats[0], { firstCheckAt, checks: 8 });
});

test('checkSql: the first cell decides; templates are bound parameters; SQL errors and unknown connections fail at once', async () => {
  const { checkSql } = createSensorActivities({ config: { dataDir: '/nonexistent', connections: {} }, pool });
  await pool.query('CREATE SCHEMA IF NOT EXISTS source');
  await pool.query('CREATE TABLE IF NOT EXISTS source.sensor_test (date date NOT NULL)');
  await pool.query("DELETE FROM source.sensor_test WHERE date = '2030-02-01'");
  const { text, params } = parameterizeSql("SELECT COUNT(*) FROM source.sensor_test WHERE date = '{{ ds }}'", { ds: '2030-02-01' });
  assert.equal(text, 'SELECT COUNT(*) FROM source.sensor_test WHERE date = $1');
  assert.deepEqual(params, ['2030-02-01']);
  const check = (input: { text: string; params: string[]; connId?: string }): Promise<SensorCheckResult> => mockActivityEnv().run(checkSql, input);
  assert.deepEqual(await check({ text, params }), { found: false, reason: 'warehouse: the query returned "0"' });
  await pool.query("INSERT INTO source.sensor_test VALUES ('2030-02-01')");
  assert.deepEqual(await check({ text, params }), { found: true });
  assert.deepEqual(await check({ text: 'SELECT NULL', params: [] }), { found: false, reason: 'warehouse: the query returned null' });
  await assert.rejects(check({ text: 'SELECT COUNT(*) FROM source.missing_table', params: [] }), {
    message: 'SqlSensor on warehouse: relation "source.missing_table" does not exist',
  });
  await assert.rejects(check({ text, params, connId: 'postgres_prod' }), {
    message: 'unknown connection "postgres_prod": set BATON_CONN_POSTGRES_PROD to its URL',
  });
  assert.throws(() => parameterizeSql("SELECT 1 WHERE x = '{{ dsx }}'", { ds: 'x' }), { message: 'unknown placeholder {{ dsx }} in the SQL; known: ds' });
});
