import assert from 'node:assert/strict';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSensorActivities, type PokeResult, type SensorCheckResult } from '../../activities/sensors';
import { tempDir } from '../support';

test('checkFile: missing, settling, waiting for its marker, then found', async () => {
  const dataDir = await tempDir();
  await mkdir(path.join(dataDir, 'raw'));
  const { checkFile } = createSensorActivities({ config: { dataDir } });
  const check = (settleSeconds: number, successMarker?: string): Promise<SensorCheckResult> =>
    new MockActivityEnvironment().run(checkFile, { path: 'raw/orders.csv', settleSeconds, ...(successMarker ? { successMarker } : {}) });

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
  await assert.rejects(new MockActivityEnvironment().run(checkFile, { path: '../../etc/passwd', settleSeconds: 0 }), /leaves the data directory/);
});

test('pokeFile resumes from its heartbeat: the time-out counts from the first check of the first attempt', async () => {
  const dataDir = await tempDir();
  const { pokeFile } = createSensorActivities({ config: { dataDir } });
  const firstCheckAt = Date.now() - 10_000; // an earlier attempt started checking 10 s ago
  const env = new MockActivityEnvironment({ heartbeatDetails: { firstCheckAt, checks: 7 } });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const started = Date.now();
  const result: PokeResult = await env.run(pokeFile, { file: { path: 'raw/never.csv', settleSeconds: 0 }, pokeIntervalMs: 200, timeoutMs: 10_500 });
  assert.equal(result.timedOut, true);
  assert.ok(Date.now() - started < 3_000, 'resumed the time-out instead of starting it again');
  assert.ok(result.checks > 7);
  assert.deepEqual(beats[0], { firstCheckAt, checks: 8 });
});
