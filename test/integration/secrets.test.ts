/**
 * Secrets never reach a log line, an error or a run's history. The real worker runs with
 * recognisable secrets in every place Baton takes one (the warehouse URL's password, a
 * connection's password, SMTP credentials, a Temporal API key), through a run that succeeds
 * (dbt included), one that fails on a refused connection, and the alert mails that failure
 * sends; then every log line, every history written meanwhile (payloads decoded), every mail
 * and the CLI's output are searched for each secret.
 */
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import assert from '../support/assert';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { addDays } from '../../src/logical-date';
import { triggerRun, waitForRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { execFileAsync, repoRoot, startSmtpServer, integrationPlatform } from '../support';

const platform = integrationPlatform({ worker: false, migrate: false });
const { config } = platform;
const databasePassword = decodeURIComponent(new URL(config.databaseUrl).password);
// The worker connects on its own role when the test runner made one (test/support/worker.ts).
const workerPassword = decodeURIComponent(new URL(process.env.BATON_WORKER_DATABASE_URL ?? config.databaseUrl).password);
const SECRETS = {
  'the warehouse password (DATABASE_URL)': databasePassword,
  "the worker role's password (the worker's DATABASE_URL)": workerPassword,
  'the postgres_prod password (BATON_CONN_POSTGRES_PROD)': 'conn-S3CRET-4b1d9e',
  'the SMTP password (SMTP_URL)': 'smtp-S3CRET-7f3a20',
  'the Temporal API key (TEMPORAL_API_KEY)': 'tmprl-APIKEY-S3CRET-91c2',
};
const base = addDays('2052-01-01', (Math.floor(Date.now() / 1000) % 5000) * 2);
const startedAt = new Date();
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

beforeAll(async () => {
  assert.ok(databasePassword.length >= 8, 'the test database URL has a password to look for');
  smtp = await startSmtpServer({ user: 'alerts', pass: SECRETS['the SMTP password (SMTP_URL)'] });
  const wrongConn = new URL(config.databaseUrl);
  wrongConn.password = SECRETS['the postgres_prod password (BATON_CONN_POSTGRES_PROD)'];
  await platform.startWorker({
    ...process.env,
    SMTP_URL: `smtp://alerts:${SECRETS['the SMTP password (SMTP_URL)']}@127.0.0.1:${smtp.port}`,
    BATON_CONN_POSTGRES_PROD: wrongConn.toString(),
    // The dev server takes no API key; the worker sends it anyway, on a plain connection.
    TEMPORAL_API_KEY: SECRETS['the Temporal API key (TEMPORAL_API_KEY)'],
    TEMPORAL_TLS: 'false',
  });
});
platform.atEnd(() => smtp?.close());

/** Every history of a workflow started since the test began, payloads decoded to their JSON text. */
async function historiesSince(since: Date): Promise<string[]> {
  const texts: string[] = [];
  for await (const execution of platform.client.workflow.list({ query: `StartTime >= "${since.toISOString()}"` })) {
    const history = await platform.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    texts.push(JSON.stringify(history, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value)));
  }
  return texts;
}

test('no secret appears in logs, errors, histories or mails of runs that succeed and fail', async () => {
  const good = base;
  await mkdir(path.join(config.dataDir, 'raw'), { recursive: true });
  await generateOrders({ ds: good, rows: 500, badRate: 0.02, seed: 5, file: path.join(config.dataDir, 'raw', `orders_${good}.csv`) });
  const ok = await waitForRun<OrdersDailyEtlResult>(platform.client, await triggerRun(platform.client, config, ordersDailyEtlDag, good));
  assert.equal(ok.state, 'success');
  assert.equal(ok.loadedRows, 490);

  // postgres_prod refuses the password: wait_for_data fails, the run fails and mails its owners.
  const refused = addDays(base, 1);
  const failed = await triggerRun(platform.client, config, ordersDailyEtlDag, refused, { source: 'db' });
  await assert.rejects(waitForRun(platform.client, failed));
  for (let i = 0; i < 40 && smtp.mails.length === 0; i++) await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(smtp.logins, ['alerts'], 'the mail went through SMTP AUTH with the secret password');
  assert.match(smtp.mails[0].data, /password authentication failed/, 'the alert names the connection error');

  const baton = (...args: string[]) =>
    execFileAsync(process.execPath, ['scripts/baton.js', ...args], { cwd: repoRoot, env: process.env }).catch((err: { stdout?: string; stderr?: string }) => ({
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }));
  const cli = [await baton('runs', 'list', 'orders_daily_etl', '--limit', '5'), await baton('runs', 'show', 'orders_daily_etl', refused)];
  assert.match(cli[1].stdout, /wait_for_data +failed/);
  const histories = await historiesSince(startedAt);
  assert.ok(histories.length >= 2, `${histories.length} histories since the test began`);
  assert.ok(
    histories.some((h) => h.includes('password authentication failed')),
    'the failure is in a history',
  );

  const places: Record<string, string> = {
    'the worker log': platform.worker.output(),
    ...Object.fromEntries(histories.map((h, i) => [`history ${i + 1}`, h])),
    ...Object.fromEntries(smtp.mails.map((m, i) => [`mail ${i + 1}`, m.data])),
    'the CLI output': cli.map((c) => c.stdout + c.stderr).join('\n'),
  };
  assert.ok(places['the worker log'].includes('"msg":"worker ready"'));
  const leaks = Object.entries(SECRETS).flatMap(([secret, value]) =>
    Object.entries(places)
      .filter(([, text]) => text.includes(value) || text.includes(encodeURIComponent(value)))
      .map(([place]) => `${secret} in ${place}`),
  );
  assert.deepEqual(leaks, []);
});
