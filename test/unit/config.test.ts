import assert from '../support/assert';
import { readFileSync } from 'node:fs';
import { test } from '@jest/globals';
import { temporalConnectionOptions } from '../../src/client';
import { loadConfig, redactUrl } from '../../src/config';
import { createLogger } from '../../src/logging';

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

test('Temporal TLS, mTLS and API keys come from the Temporal CLI variables; plain without them', () => {
  const cert = __filename; // any existing file stands in for a PEM here; the TLS test uses real ones
  assert.deepEqual(temporalConnectionOptions(loadConfig({ ...base })), { address: 'localhost:7233', tls: false });
  assert.deepEqual(loadConfig({ ...base, TEMPORAL_TLS: 'true' }).temporal.tls, {});
  const mtls = loadConfig({
    ...base,
    TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: cert,
    TEMPORAL_TLS_SERVER_NAME: 'ns.acct.tmprl.cloud',
  });
  assert.deepEqual(mtls.temporal.tls, { clientCertPath: cert, clientKeyPath: cert, serverName: 'ns.acct.tmprl.cloud' });
  const options = temporalConnectionOptions(mtls);
  assert.deepEqual(options.tls && options.tls.clientCertPair?.crt, readFileSync(cert));
  assert.equal(options.tls && options.tls.serverNameOverride, 'ns.acct.tmprl.cloud');
  // Temporal Cloud API keys: TLS on by default, the key passed to the connection and never logged.
  const cloud = loadConfig({ ...base, TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: 'tmprl-key-s3cret' });
  assert.deepEqual(temporalConnectionOptions(cloud), { address: 'us-east-1.aws.api.temporal.io:7233', tls: {}, apiKey: 'tmprl-key-s3cret' });
  assert.equal(loadConfig({ ...base, TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).temporal.tls, undefined);
});

test('Temporal TLS settings that cannot work are refused, naming the variable', () => {
  assert.throws(() => loadConfig({ ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: __filename }), {
    message: 'invalid environment: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together (mTLS needs the certificate and its key)',
  });
  assert.throws(() => loadConfig({ ...base, TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' }), {
    message: 'invalid environment: TEMPORAL_TLS_SERVER_CA_CERT_PATH: no such file /nonexistent/ca.pem',
  });
  assert.throws(() => loadConfig({ ...base, TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'x' }), {
    message: 'invalid environment: TEMPORAL_TLS=false, but TLS files or a server name are set',
  });
  assert.throws(() => loadConfig({ ...base, TEMPORAL_TLS: 'yes' }), /TEMPORAL_TLS/);
});

test('the logger masks the API key and connection URLs wherever they appear in a log object', () => {
  const lines: string[] = [];
  const logger = createLogger('info', 'test', { write: (line: string) => lines.push(line) });
  logger.info(
    { config: { temporal: { apiKey: 'tmprl-key-s3cret' }, databaseUrl: base.DATABASE_URL }, apiKey: 'tmprl-key-s3cret', smtpUrl: 'smtp://u:s3cret@mail' },
    'start',
  );
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes('s3cret'), lines[0]);
});
