/**
 * Webhook notifiers (activities/notify.ts) against a loopback HTTP server: the JSON payload with
 * its Slack-compatible text and the run's link, basic auth from the connection's credentials, the
 * secrets of every connection masked in what the payload quotes, a refusal named without the URL.
 */
import assert from '../support/assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, test } from '@jest/globals';
import { createNotifierActivities, secretMasker, type WebhookPayload } from '../../activities/notify';
import { createMailActivities } from '../../activities/mail';
import type { NotifierInput } from '../../src/contracts';
import { mockActivityEnv, quietLogger } from '../support';

let server: Server;
let base = '';
const received: Array<{ path: string; auth?: string; type?: string; body: WebhookPayload }> = [];
let status = 200;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const hookPath = '/services/T000/B000/XXXXXXXXsecrettoken';
const config = () => ({
  connections: {
    ops_hook: `${base.replace('http://', 'http://baton:hook-pa55@')}${hookPath}`,
    postgres_prod: 'postgres://etl:s3cr3t-pw@db.internal:5432/prod',
  },
  webUiUrl: 'http://localhost:8233',
  temporal: { address: 'x', namespace: 'default' },
  databaseUrl: 'postgres://owner:owner-pw@localhost:5432/warehouse',
  mail: { smtpUrl: undefined, from: 'baton@localhost' },
});

const failure: NotifierInput = {
  conn: 'ops_hook',
  event: 'failure',
  dagId: 'orders_daily_etl',
  ds: '2024-01-15',
  taskId: 'load',
  state: 'failed',
  message: 'the run failed at load',
  error: 'could not connect to postgres://etl:s3cr3t-pw@db.internal:5432/prod (password s3cr3t-pw); owner-pw was refused',
};

test('a failure is posted as JSON with a Slack-compatible text and the run link; the secrets it quotes are masked', async () => {
  received.length = 0;
  const { notifyWebhook } = createNotifierActivities({ logger: quietLogger, config: config() as never });
  const env = mockActivityEnv({ workflowExecution: { workflowId: 'orders_daily_etl-2024-01-15', runId: 'run-1' } });
  assert.deepEqual(await env.run(notifyWebhook, failure), { status: 200 });
  assert.equal(received.length, 1);
  const [call] = received;
  assert.equal(call.path, hookPath);
  assert.equal(call.type, 'application/json');
  assert.equal(call.auth, `Basic ${Buffer.from('baton:hook-pa55').toString('base64')}`);
  const link = 'http://localhost:8233/namespaces/default/workflows/orders_daily_etl-2024-01-15/run-1/history';
  assert.deepEqual(call.body, {
    text: `[failure] orders_daily_etl 2024-01-15 load: the run failed at load: could not connect to BATON_CONN_POSTGRES_PROD (password ***); *** was refused <${link}|run>`,
    event: 'failure',
    dag: 'orders_daily_etl',
    ds: '2024-01-15',
    task: 'load',
    state: 'failed',
    error: 'could not connect to BATON_CONN_POSTGRES_PROD (password ***); *** was refused',
    link,
    run: { workflowId: 'orders_daily_etl-2024-01-15', runId: 'run-1' },
  });
  const all = JSON.stringify(call.body);
  for (const secret of ['s3cr3t-pw', 'owner-pw', 'hook-pa55', 'secrettoken']) assert.ok(!all.includes(secret), `${secret} reached the payload`);
});

test('a refusal is named by the connection and the status, never the URL; 5xx is retried, 4xx is not', async () => {
  const { notifyWebhook } = createNotifierActivities({ logger: quietLogger, config: config() as never });
  const env = mockActivityEnv({ workflowExecution: { workflowId: 'w', runId: 'r' } });
  status = 503;
  const refusal = (input: NotifierInput) =>
    env.run(notifyWebhook, input).then(
      () => assert.fail('it succeeded'),
      (e: unknown) => e as { message: string; nonRetryable: boolean },
    );
  const busy = await refusal(failure);
  assert.deepEqual([busy.message, busy.nonRetryable], ['webhook ops_hook answered 503', false]);
  status = 404;
  const gone = await refusal(failure);
  assert.deepEqual([gone.message, gone.nonRetryable], ['webhook ops_hook answered 404', true]);
  status = 200;
  const unknown = await refusal({ ...failure, conn: 'slack' });
  assert.equal(unknown.message, 'unknown connection "slack": set BATON_CONN_SLACK to the webhook\'s URL');
});

test("a token in a connection's user name is masked too, and so are secrets in an alert mail", async () => {
  const masked = secretMasker({ connections: { api: 'https://tok-5f2a9c77e1@api.example.com/v1' }, mail: { from: 'baton@localhost' } });
  assert.equal(masked('the API refused tok-5f2a9c77e1 at https://tok-5f2a9c77e1@api.example.com/v1'), 'the API refused *** at BATON_CONN_API');
  const logged: Array<Record<string, unknown>> = [];
  const logger = { warn: (fields: Record<string, unknown>) => logged.push(fields), info: () => undefined } as never;
  const { sendAlert } = createMailActivities({ logger, config: { ...config(), mail: { smtpUrl: undefined, from: 'baton@localhost' } } as never });
  await mockActivityEnv({ workflowExecution: { workflowId: 'w', runId: 'r' } }).run(sendAlert, {
    dagId: 'd',
    ds: '2024-01-15',
    to: ['a@example.com'],
    subject: 'load failed: s3cr3t-pw',
    body: 'could not connect to postgres://etl:s3cr3t-pw@db.internal:5432/prod',
  });
  assert.equal(logged[0].subject, 'load failed: ***');
  assert.match(String(logged[0].body), /^could not connect to BATON_CONN_POSTGRES_PROD\n/);
});
