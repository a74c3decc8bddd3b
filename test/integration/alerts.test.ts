/**
 * email_on_failure and send_empty_alert through the real worker to a real SMTP server on
 * loopback: one mail per failed run (after its retries), one for an empty day.
 */
import assert from '../support/assert';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { addDays } from '../../src/logical-date';
import { triggerRun, waitForRun } from '../../src/runs';
import { startSmtpServer, integrationPlatform } from '../support';

const platform = integrationPlatform({ worker: false, migrate: false });
const { config } = platform;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
beforeAll(async () => {
  smtp = await startSmtpServer();
  await platform.startWorker({ ...process.env, SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
});
platform.atEnd(() => smtp?.close());
// Dates of their own on every run, so that no earlier run of the same day interferes.
const base = addDays('2050-01-01', (Math.floor(Date.now() / 1000) % 5000) * 3);

const subjects = () => smtp.mails.map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1]);

test('a failed run sends one mail to the DAG owners, naming the task and the error', async () => {
  const ds = base;
  const run = await triggerRun(platform.client, config, ordersDailyEtlDag, ds);
  await assert.rejects(waitForRun(platform.client, run));
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(subjects(), [`[orders_daily_etl] ${ds} failed at wait_for_file`]);
  assert.deepEqual(smtp.mails[0].to, ['alerts@company.com']);
  assert.match(
    smtp.mails[0].data,
    new RegExp(`task wait_for_file failed: sensor timed out after 3s and \\d+ checks: raw/orders_${ds}\\.csv does not exist yet`),
  );
  assert.match(smtp.mails[0].data, new RegExp(`Web UI: http://localhost:8233/namespaces/${config.temporal.namespace}/workflows/orders_daily_etl-${ds}/`));
});

test('an empty day mails send_empty_alert', async () => {
  const ds = addDays(base, 1);
  await mkdir(path.join(config.dataDir, 'raw'), { recursive: true });
  await writeFile(path.join(config.dataDir, 'raw', `orders_${ds}.csv`), 'order_id,customer_id,order_date,amount,status\n');
  const before = smtp.mails.length;
  const result = await waitForRun(platform.client, await triggerRun(platform.client, config, ordersDailyEtlDag, ds));
  assert.equal(result.state, 'success_with_skips');
  assert.deepEqual(subjects().slice(before), [`[orders_daily_etl] no orders for ${ds}`]);
});
