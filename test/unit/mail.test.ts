/**
 * Alerts through real SMTP: an smtp-server on loopback receives what the activity sends.
 */
import assert from '../support/assert';
import { afterAll, beforeAll, test } from '@jest/globals';
import { createMailActivities } from '../../activities/mail';
import type { AlertResult } from '../../src/contracts';
import { quietLogger, startSmtpServer, type ReceivedMail, mockActivityEnv } from '../support';

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let received: ReceivedMail[];
let port: number;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ({ mails: received, port } = smtp);
});
afterAll(() => smtp.close());

const alert = {
  dagId: 'orders_daily_etl',
  ds: '2024-01-15',
  to: ['alerts@company.com'],
  subject: '[orders_daily_etl] 2024-01-15 failed at load',
  body: 'task load failed: deadlock detected',
};

test('an alert is mailed through SMTP with the failed task, the error and the Web UI link of the run', async () => {
  const { sendAlert } = createMailActivities({
    logger: quietLogger,
    config: {
      mail: { smtpUrl: `smtp://127.0.0.1:${port}`, from: 'baton@example.com' },
      webUiUrl: 'http://localhost:8233',
      temporal: { address: 'x', namespace: 'default' },
    },
  });
  const env = mockActivityEnv({ workflowExecution: { workflowId: 'orders_daily_etl-2024-01-15', runId: 'run-1' } });
  const result: AlertResult = await env.run(sendAlert, alert);
  assert.deepEqual(result, { delivered: 'mailed' });
  assert.equal(received.length, 1);
  const [mail] = received;
  assert.equal(mail.from, 'baton@example.com');
  assert.deepEqual(mail.to, ['alerts@company.com']);
  assert.match(mail.data, /^Subject: \[orders_daily_etl\] 2024-01-15 failed at load$/m);
  // The body is quoted-printable: undo its escapes before reading it.
  const body = mail.data.replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  assert.match(body, /task load failed: deadlock detected/);
  assert.match(body, /Web UI: http:\/\/localhost:8233\/namespaces\/default\/workflows\/orders_daily_etl-2024-01-15\/run-1\/history/);
});

test('without SMTP_URL the alert is logged, not lost', async () => {
  const lines: string[] = [];
  const logger = { warn: (obj: object, msg: string) => lines.push(`${msg} ${JSON.stringify(obj)}`), info: () => undefined } as unknown as typeof quietLogger;
  const { sendAlert } = createMailActivities({
    logger,
    config: { mail: { from: 'baton@localhost' }, webUiUrl: 'http://localhost:8233', temporal: { address: 'x', namespace: 'default' } },
  });
  const before = received.length;
  assert.deepEqual(await mockActivityEnv().run(sendAlert, alert), { delivered: 'logged' });
  assert.equal(received.length, before);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^alert: \[orders_daily_etl\] 2024-01-15 failed at load \{"alert":true/);
});
