/**
 * The sensor toolkit on the time-skipping test server: found at once, found after several
 * checks, time-out (hard and soft), backoff, the three modes, and bad templates.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FileCheckInput, PokeInput, SensorCheckResult, SqlCheckInput } from '../../activities/sensors';
import type { SensorOptions } from '../../workflows/sensors';
import { timeSkippingWorker } from '../support';

const taskQueue = 'sensor-tests';
let answers: (n: number) => SensorCheckResult = () => ({ found: true });
let checks: Array<{ input: FileCheckInput; at: number }> = [];
let pokes: PokeInput[] = [];
let sqlChecks: SqlCheckInput[] = [];

const interval = { ds: '2024-01-15', dataIntervalStart: '2024-01-15T06:00:00.000Z', dataIntervalEnd: '2024-01-16T06:00:00.000Z' };
const spec = { pathTemplate: 'raw/orders_{{ ds_nodash }}.csv', settle: '30s' };
const reschedule: SensorOptions = { mode: 'reschedule', pokeInterval: '300s', timeout: '3600s' };

const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./sensor-probe'),
  activities: {
    checkFile: async (input: FileCheckInput) => {
      checks.push({ input, at: await server.env.currentTimeMs() });
      return answers(checks.length);
    },
    checkSql: async (input: SqlCheckInput) => {
      sqlChecks.push(input);
      return answers(sqlChecks.length);
    },
    pokeFile: async (input: PokeInput) => {
      pokes.push(input);
      return { found: true, timedOut: false, checks: 2 };
    },
  },
});

let n = 0;
async function probe(options: SensorOptions, answer: (n: number) => SensorCheckResult, s = spec) {
  answers = answer;
  checks = [];
  pokes = [];
  return server.env.client.workflow.execute('sensorProbe', { taskQueue, workflowId: `probe-${++n}`, args: [s, options, interval] });
}

const missing = { found: false, reason: 'raw/orders_20240115.csv does not exist yet' };

test('found on the first check: one check, the rendered path and settle time', async () => {
  assert.deepEqual(await probe(reschedule, () => ({ found: true })), { found: true, checks: 1 });
  assert.deepEqual(
    checks.map((c) => c.input),
    [{ path: 'raw/orders_20240115.csv', settleSeconds: 30 }],
  );
});

test('found after several checks, poke_interval apart, with no failures in between', async () => {
  assert.deepEqual(await probe(reschedule, (i) => (i < 4 ? missing : { found: true })), { found: true, checks: 4 });
  const gaps = checks.slice(1).map((c, i) => Math.round((c.at - checks[i].at) / 1000));
  assert.deepEqual(gaps, [300, 300, 300]);
});

test('a file still settling is looked at again as soon as it has settled, not a poke_interval later', async () => {
  const result = await probe(reschedule, (i) => (i === 1 ? { found: false, reason: 'changed 10s ago', recheckAfterMs: 20_000 } : { found: true }));
  assert.deepEqual(result, { found: true, checks: 2 });
  assert.equal(Math.round((checks[1].at - checks[0].at) / 1000), 20);
});

test('time-out counts from the first check and fails with the last reason', async () => {
  await assert.rejects(
    probe(reschedule, () => missing),
    (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'SensorTimeout');
      assert.equal(err.cause.message, 'sensor timed out after 3600s and 13 checks: raw/orders_20240115.csv does not exist yet');
      return true;
    },
  );
});

test('soft_fail: a time-out skips instead of failing', async () => {
  assert.deepEqual(await probe({ ...reschedule, softFail: true, timeout: '600s' }, () => missing), {
    found: false,
    skipped: true,
    checks: 3,
    reason: 'sensor timed out after 600s and 3 checks: raw/orders_20240115.csv does not exist yet',
  });
});

test('exponential backoff doubles the wait up to the time-out', async () => {
  await assert.rejects(
    probe({ ...reschedule, exponentialBackoff: true }, () => missing),
    (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(err.cause?.message ?? '', /^sensor timed out after 3600s and 5 checks/);
      return true;
    },
  );
  assert.deepEqual(
    checks.slice(1).map((c, i) => Math.round((c.at - checks[i].at) / 1000)),
    [300, 600, 1200, 1500],
  );
});

test('deferrable checks in a local activity; poke hands the whole wait to one activity', async () => {
  assert.deepEqual(await probe({ ...reschedule, mode: 'deferrable' }, (i) => (i < 2 ? missing : { found: true })), { found: true, checks: 2 });
  assert.deepEqual(await probe({ ...reschedule, mode: 'poke' }, () => missing), { found: true, checks: 2 });
  assert.deepEqual(pokes, [{ file: { path: 'raw/orders_20240115.csv', settleSeconds: 30 }, pokeIntervalMs: 300_000, timeoutMs: 3_600_000 }]);
});

test('an unknown placeholder or a path out of the data directory fails before any check', async () => {
  for (const [pathTemplate, message] of [
    [
      'raw/orders_{{ dt }}.csv',
      'unknown placeholder {{ dt }} in "raw/orders_{{ dt }}.csv"; known: ds, ds_nodash, ts, ts_nodash, data_interval_start, data_interval_end',
    ],
    ['../raw/orders_{{ ds }}.csv', 'path "../raw/orders_2024-01-15.csv" leaves the data directory: use a relative path without ..'],
  ]) {
    await assert.rejects(
      probe(reschedule, () => ({ found: true }), { ...spec, pathTemplate }),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
        assert.equal(err.cause.message, message);
        return true;
      },
    );
    assert.equal(checks.length, 0);
  }
});

test('SqlSensor: the Airflow-templated query runs with ds bound as a parameter until it finds rows', async () => {
  answers = (i) => (i < 3 ? { found: false, reason: 'warehouse: the query returned "0"' } : { found: true });
  sqlChecks = [];
  const result = await server.env.client.workflow.execute('sqlSensorProbe', {
    taskQueue,
    workflowId: `sql-probe-${++n}`,
    args: [{ connId: 'postgres_prod', sql: "SELECT COUNT(*) FROM orders WHERE date = '{{ ds }}'" }, { ...reschedule, pokeInterval: '600s' }, interval],
  });
  assert.deepEqual(result, { found: true, checks: 3 });
  assert.deepEqual(sqlChecks[0], { connId: 'postgres_prod', text: 'SELECT COUNT(*) FROM orders WHERE date = $1', params: ['2024-01-15'] });
});
