import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, redactUrl } from '../../src/config';

const base = { DATABASE_URL: 'postgres://baton:s3cret-pw@127.0.0.1:5432/baton' };

test('config defaults follow the public contract', () => {
  const config = loadConfig({ ...base });
  assert.equal(config.temporal.address, 'localhost:7233');
  assert.equal(config.temporal.namespace, 'default');
  assert.ok(config.dataDir.endsWith('/data'));
  assert.equal(config.dbt.target, 'prod');
  assert.deepEqual(config.retry, { retryDelay: undefined, maximumAttempts: undefined });
});

test('config errors name the variable and what was expected', () => {
  assert.throws(() => loadConfig({ ...base, BATON_RETRY_DELAY: 'soon' }), {
    message: 'invalid environment: BATON_RETRY_DELAY: a duration such as 500ms, 30s, 5m or 1h',
  });
  assert.throws(() => loadConfig({ ...base, BATON_DBT_TARGET: 'staging' }), /BATON_DBT_TARGET/);
});

test('a database URL is logged with its password masked', () => {
  assert.equal(redactUrl(base.DATABASE_URL), 'postgres://baton:***@127.0.0.1:5432/baton');
  assert.ok(!redactUrl(base.DATABASE_URL).includes('s3cret'));
});

test('the worker serves metrics on 127.0.0.1:9464 unless told another port, or off', () => {
  assert.deepEqual(loadConfig({ ...base }).metrics, { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(loadConfig({ ...base, BATON_METRICS_PORT: '9470', BATON_METRICS_HOST: '0.0.0.0' }).metrics, { host: '0.0.0.0', port: 9470 });
  assert.equal(loadConfig({ ...base, BATON_METRICS_PORT: 'off' }).metrics, undefined);
  assert.equal(loadConfig({ ...base, BATON_METRICS_PORT: '0' }).metrics, undefined);
  assert.throws(() => loadConfig({ ...base, BATON_METRICS_PORT: '80' }), {
    message: 'invalid environment: BATON_METRICS_PORT: a port from 1024 to 65535, or off',
  });
  assert.throws(() => loadConfig({ ...base, BATON_METRICS_HOST: 'localhost' }), {
    message: 'invalid environment: BATON_METRICS_HOST: an IP address such as 127.0.0.1 or 0.0.0.0',
  });
});
