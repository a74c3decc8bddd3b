/**
 * email_on_failure and send_empty_alert through the real worker to a real SMTP server on
 * loopback: one mail per failed run (after its retries), one for an empty day.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/client';
import { ordersDailyEtlDag } from '../../src/dags';
import { addDays } from '../../src/logical-date';
import { triggerRun, waitForRun } from '../../src/runs';
import { startSmtpServer, startWorkerProcess, testConfig, type RunningWorker } from '../support';

const config = testConfig();
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let worker: RunningWorker;
let client: Client;
// Dates of their own on every run, so that no earlier run of the same day interferes.
const base = addDays('2050-01-01', (Math.floor(Date.now() / 1000) % 5000) * 3);

before(async () => {
  smtp = await startSmtpServer();
  worker = await startWorkerProcess({ ...process.env, SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
  client = await connectClient(config);
});
after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await smtp?.close();
});

const subjects = () => smtp.mails.map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1]);

test('a failed run sends one mail to the DAG owners, naming the task and the error', async () => {
  const ds = base;
  const run = await triggerRun(client, config, ordersDailyEtlDag, ds);
  await assert.rejects(waitForRun(client, run));
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(subjects(), [`[orders_daily_etl] ${ds} failed at wait_for_file`]);
  assert.deepEqual(smtp.mails[0].to, ['alerts@company.com']);
  assert.match(smtp.mails[0].data, new RegExp(`task wait_for_file failed: sensor timed out after 3s and \\d+ checks: raw/orders_${ds}\\.csv does not exist yet`));
  assert.match(smtp.mails[0].data, new RegExp(`Web UI: http://localhost:8233/namespaces/baton-test/workflows/orders_daily_etl-${ds}/`));
});

test('an empty day mails send_empty_alert', async () => {
  const ds = addDays(base, 1);
  await mkdir(path.join(config.dataDir, 'raw'), { recursive: true });
  await writeFile(path.join(config.dataDir, 'raw', `orders_${ds}.csv`), 'order_id,customer_id,order_date,amount,status\n');
  const before = smtp.mails.length;
  const result = await waitForRun(client, await triggerRun(client, config, ordersDailyEtlDag, ds));
  assert.equal(result.state, 'success_with_skips');
  assert.deepEqual(subjects().slice(before), [`[orders_daily_etl] no orders for ${ds}`]);
});
