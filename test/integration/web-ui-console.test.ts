/**
 * Baton's console end to end in headless Chromium, against the real worker, dev server and
 * Postgres: repair a failed run from its grid (read the failed cell's error, clear it with
 * downstream, watch the cells turn green), trigger with a bad param (the field named, nothing
 * started) and a good run (it appears), answer an approval, an answer holding HTML that stays
 * text, cancel a run with a reason, the graph, and a console on a non-loopback address that
 * refuses every page and action without its token. Screenshots of the grid, the graph and the
 * trigger form are kept in .baton/artifacts/console/.
 */
import assert from '../support/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { addDays } from '../../src/logical-date';
import { findInCatalog, loadCatalog } from '../../src/dag-catalog';
import { triggerRun } from '../../src/runs';
import { syncSchedule } from '../../src/schedules';
import { serveConsole, type RunningConsole } from '../../src/console';
import { integrationPlatform, launchChromium, repoRoot } from '../support';

let api: Server;
let apiUrl = '';
let failing = true;
const platform = integrationPlatform({ worker: false });
let browser: Browser;
let console_: RunningConsole;
const artifacts = path.join(repoRoot, '.baton', 'artifacts', 'console');
// The worker's log, where the console reads a task's lines (as `.baton/logs/` for `baton start`'s worker).
const logsDir = path.join(repoRoot, '.baton', 'artifacts', 'console-logs');
// Dates of their own on every run: the dev server keeps every earlier run of a workflow id.
const base = addDays('2400-01-01', (Math.floor(Date.now() / 1000) % 20_000) * 3);
// approval_example's runs come before 2031: the operate tests read its two latest runs, in 2031.
const approvalBase = addDays('2025-01-01', (Math.floor(Date.now() / 1000) % 900) * 2);

beforeAll(async () => {
  api = createServer((_req, res) => {
    if (failing) return void res.writeHead(503).end('rates are being recomputed');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ eur: 1.08 }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1`;
  // One try per task: the failure shows at once.
  await platform.startWorker({ ...process.env, BATON_CONN_EXAMPLE_API: apiUrl, BATON_RETRY_ATTEMPTS: '1' });
  process.env.BATON_USER = 'dana';
  // The console knows the connection (as `baton start` gives it the worker's): a page never shows its URL.
  console_ = await serveConsole({ host: '127.0.0.1', port: 0, logsDir, env: { ...process.env, BATON_CONN_EXAMPLE_API: apiUrl } });
  browser = await launchChromium();
  await mkdir(artifacts, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await console_?.close();
  await new Promise((resolve) => api?.close(resolve));
});

async function withPage(work: (page: Page) => Promise<void>, name: string): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(30_000);
  try {
    await work(page);
  } catch (err) {
    await page.screenshot({ path: path.join(artifacts, `failed-${name}.png`), fullPage: true }).catch(() => undefined);
    throw err;
  } finally {
    await page.close();
  }
}

const dagOf = (dagId: string) => findInCatalog(loadCatalog(), dagId)!;
const cell = (run: string, task: string) => `#grid button.c[data-run="${run}"][data-task="${task}"]`;

async function runStatus(workflowId: string): Promise<string> {
  return (await platform.client.workflow.getHandle(workflowId).describe()).status.name;
}

test('repair a failed run: its failed cell shows the error, a clear with downstream turns its cells green', async () => {
  const ds = base;
  failing = true;
  const run = await triggerRun(platform.client, platform.config, dagOf('fan_in_example'), ds);
  await assert.rejects(platform.client.workflow.getHandle(run.workflowId, run.runId).result());
  await withPage(async (page) => {
    await page.goto(`${console_.url}/dags/fan_in_example`);
    await page.locator(`${cell(ds, 'fetch_rate')}.s-failed`).waitFor();
    assert.equal(await page.locator(`${cell(ds, 'report')}`).getAttribute('class'), 'c s-upstream_failed');
    await mkdir(logsDir, { recursive: true });
    await writeFile(path.join(logsDir, 'worker.log'), platform.worker.output());
    await page.locator(cell(ds, 'fetch_rate')).click();
    const panel = page.locator('#panel .task-panel');
    await panel.waitFor();
    assert.match(
      await panel.locator('pre.error-text').innerText(),
      /^http: GET BATON_CONN_EXAMPLE_API\/rates\/\d{4}-\d{2}-\d{2} answered 503: rates are being recomputed$/,
    );
    assert.ok(!(await page.content()).includes(apiUrl), 'the connection URL is on no page');
    assert.equal(await panel.locator('[data-state]').innerText(), 'failed');
    assert.match(
      await panel.locator('pre.log').innerText(),
      /^\d{2}:\d{2}:\d{2}\.\d{3} warn http: try 1 failed attempt=1 ms=\d+ error=http: GET .* answered 503: rates are being recomputed$/m,
    );
    assert.match(
      (await panel.locator('a', { hasText: 'Temporal Web UI' }).getAttribute('href')) ?? '',
      new RegExp(`/workflows/fan_in_example-${ds}/[0-9a-f-]+/history$`),
    );
    await page.screenshot({ path: path.join(artifacts, 'grid.png') });

    failing = false;
    const form = panel.locator('form[action$="/clear"]');
    assert.equal(await form.locator('input[name="downstream"]').isChecked(), true);
    await form.locator('button', { hasText: 'Preview' }).click();
    await page.locator('#op-result .preview').waitFor();
    assert.match(await page.locator('#op-result .preview').innerText(), /^Runs again: fetch_rate, report, cleanup\s+Kept: weekday$/);
    await form.locator('input[name="reason"]').fill('the rates API is back');
    await form.locator('button', { hasText: /^Clear$/ }).click();
    assert.match(await page.locator('#op-result .ok').innerText(), /^cleared fan_in_example-\d{4}-\d{2}-\d{2}: fetch_rate, report, cleanup run again/);
    // The grid refreshes itself: the cells turn green as the run goes on.
    for (const task of ['weekday', 'fetch_rate', 'report', 'cleanup']) await page.locator(`${cell(ds, task)}.s-success`).waitFor({ timeout: 60_000 });

    // Mark a task of the finished run by hand: the run continues with it so.
    await page.locator(cell(ds, 'report')).click();
    const mark = page.locator('#panel form[action$="/mark"]');
    await mark.locator('select[name="state"]').selectOption('failed');
    await mark.locator('input[name="reason"]').fill('the rate was stale');
    await mark.locator('button').click();
    assert.match(await page.locator('#op-result .ok').innerText(), /^marked report failed; the run continues/);
    await page.locator(`${cell(ds, 'report')}.s-failed`).waitFor({ timeout: 60_000 });
    // Arrow keys move between cells: from report, up to fetch_rate.
    await page.locator(cell(ds, 'report')).focus();
    await page.keyboard.press('ArrowUp');
    assert.equal(
      await page.evaluate(() =>
        (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string } } }).document.activeElement.getAttribute('data-task'),
      ),
      'fetch_rate',
    );
  }, 'repair');
  // The clear is its execution's input, who asked and why; the mark continued it again.
  const executions: string[] = [];
  for await (const w of platform.client.workflow.list({ query: `WorkflowId = 'fan_in_example-${ds}'` })) executions.push(w.runId);
  assert.equal(executions.length, 3);
  const { events } = await platform.client.workflow.getHandle(`fan_in_example-${ds}`, executions[1]).fetchHistory();
  const input = JSON.stringify(events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.map((p) => Buffer.from(p.data!).toString('utf8')));
  assert.match(input, /\\"by\\":\\"dana\\",\\"reason\\":\\"the rates API is back\\"/);
}, 180_000);

test('trigger: a bad param is named beside its field and nothing starts; a good run appears in the grid', async () => {
  const bad = addDays(base, 1);
  await withPage(async (page) => {
    await page.goto(`${console_.url}/dags/orders_daily_etl/trigger`);
    await page.locator('#date').fill(bad);
    await page.locator('input[name="param.max_rejected_ratio"]').fill('2');
    await page.locator('form#trigger button[type="submit"]').click();
    const error = page.locator('[data-field="max_rejected_ratio"] .field-error');
    await error.waitFor();
    // The CLI's words: `baton trigger orders_daily_etl --conf '{"max_rejected_ratio": 2}'`.
    assert.match(await error.innerText(), /^params\.max_rejected_ratio: .* \(conf gave 2\)$/);
    assert.equal(await page.locator('input[name="param.max_rejected_ratio"]').getAttribute('aria-invalid'), 'true');
    await page.screenshot({ path: path.join(artifacts, 'trigger.png') });

    await page.locator('#date').fill('2024-02-30');
    await page.locator('input[name="param.max_rejected_ratio"]').fill('');
    await page.locator('form#trigger button[type="submit"]').click();
    await page.locator('[data-field="date"] .field-error', { hasText: 'ds "2024-02-30" is not a real calendar date' }).waitFor();
  }, 'trigger-bad');
  await assert.rejects(platform.client.workflow.getHandle(`orders_daily_etl-${bad}`).describe(), WorkflowNotFoundError);

  const good = approvalBase;
  await withPage(async (page) => {
    await page.goto(`${console_.url}/dags/approval_example/trigger`);
    await page.locator('#date').fill(good);
    await Promise.all([page.waitForURL(/\/dags\/approval_example\?started=/), page.locator('form#trigger button[type="submit"]').click()]);
    await page.goto(`${console_.url}/dags/approval_example?last=1000`);
    await page.locator(`#grid button.run[data-run="${good}"]`).waitFor();
    await page.locator(`${cell(good, 'sign_off')}.s-running`).waitFor({ timeout: 60_000 });
  }, 'trigger-good');
}, 180_000);

test('approvals: a value that does not fit is refused; an approval whose reason holds HTML is taken and shown as text', async () => {
  const ds = approvalBase; // triggered by the test before
  const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
  await withPage(async (page) => {
    await page.goto(`${console_.url}/dags/approval_example?last=1000`);
    await page.locator(`${cell(ds, 'sign_off')}.s-running`).waitFor({ timeout: 60_000 });
    await page.locator(cell(ds, 'sign_off')).click();
    const form = page.locator('#panel form.approval');
    await form.waitFor();
    await form.locator('textarea[name="value"]').fill('{"flagShare": 2}');
    await form.locator('input[name="reason"]').fill('checked the totals');
    await form.locator('button[value="approve"]').click();
    assert.match(await page.locator('#op-result .error').innerText(), /flagShare/);

    await form.locator('textarea[name="value"]').fill('{"flagShare": 0.02}');
    await form.locator('input[name="reason"]').fill(hostile);
    await form.locator('button[value="approve"]').click();
    await page.locator('#op-result .ok').waitFor();
    await page.locator(`${cell(ds, 'publish')}.s-success`).waitFor({ timeout: 60_000 });

    await page.locator(cell(ds, 'sign_off')).click();
    await page.locator('#panel .task-panel [data-state="success"]').waitFor();
    const xcom = await page.locator('#panel table.xcom').innerText();
    assert.ok(xcom.includes(hostile), `the reason as text in:\n${xcom}`);
    assert.equal(await page.locator('#panel img').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
  }, 'approval');
  assert.equal(await runStatus(`approval_example-${ds}`), 'COMPLETED');
}, 180_000);

test("cancel from a run's bar records who and why; the graph shows the run's states and the DAG's structure", async () => {
  const ds = addDays(approvalBase, 1);
  await triggerRun(platform.client, platform.config, dagOf('approval_example'), ds);
  await withPage(async (page) => {
    await page.goto(`${console_.url}/dags/approval_example?last=1000`);
    await page.locator(`${cell(ds, 'sign_off')}.s-running`).waitFor({ timeout: 60_000 });
    await page.locator(`#grid button.run[data-run="${ds}"]`).click();
    const form = page.locator('#panel form[action$="/cancel"]');
    await form.locator('input[name="reason"]').fill('not needed this day');
    await form.locator('button').click();
    await page.locator('#op-result .ok').waitFor();
    await page.locator(`#grid button.run[data-run="${ds}"] .bar.r-cancelled`).waitFor({ timeout: 30_000 });

    await page.goto(`${console_.url}/dags/fan_in_example/graph?run=${base}`);
    assert.deepEqual(await page.locator('svg.graph .graph-task').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-task'))), [
      'weekday',
      'fetch_rate',
      'report',
      'cleanup',
    ]);
    // report was marked failed by hand (the first test); the others succeeded.
    assert.deepEqual(await page.locator('svg.graph .graph-task rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('class'))), [
      'node s-success',
      'node s-success',
      'node s-failed',
      'node s-success',
    ]);
    assert.equal(await page.locator('svg.graph path.edge').count(), 3);
    await page.screenshot({ path: path.join(artifacts, 'graph.png') });
    await page.goto(`${console_.url}/dags/fan_in_example/graph`);
    assert.equal(await page.locator('svg.graph rect.s-none').count(), 4);
  }, 'cancel-graph');
  const { events } = await platform.client.workflow.getHandle(`approval_example-${ds}`).fetchHistory();
  const asked = events?.find((e) => e.workflowExecutionCancelRequestedEventAttributes)?.workflowExecutionCancelRequestedEventAttributes;
  assert.deepEqual([asked?.identity, asked?.cause], ['baton:dana', 'dana: not needed this day']);
}, 180_000);

test('a backfill from its form shows its progress to the end; pause and unpause ask why and leave it in the schedule', async () => {
  const from = addDays(base, 10);
  const to = addDays(base, 11);
  await withPage(async (page) => {
    await page.goto(`${console_.url}/dags/fan_in_example/backfill`);
    const form = page.locator('form.backfill');
    await form.locator('input[name="from"]').fill(from);
    await form.locator('input[name="to"]').fill('2024-13-01');
    await form.locator('input[name="reason"]').fill('two days of rates');
    await form.locator('button').click();
    await page.locator('#backfill-result .error', { hasText: '"2024-13-01" is not a real calendar date' }).waitFor();
    await form.locator('input[name="to"]').fill(to);
    await form.locator('button').click();
    await page.locator('#backfill-result .ok', { hasText: `started baton-backfill-fan_in_example-${from}-${to}: 2 dates` }).waitFor();
    const row = page.locator(`tr[data-backfill="baton-backfill-fan_in_example-${from}-${to}"]`);
    await row.locator('.r-completed').waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /2\/2: 2 succeeded, 0 failed, 0 skipped/);

    // The schedule, paused as the DAG asks on creation: unpaused, then paused again, each with a reason.
    await syncSchedule(platform.client, dagOf('fan_in_example'));
    await platform.client.schedule.getHandle('fan_in_example').pause('the test starts from a paused schedule');
    await page.goto(`${console_.url}/dags`);
    const toggle = page.locator('tr[data-dag="fan_in_example"] form.pause');
    await toggle.locator('input[name="reason"]').fill('the API is up');
    await toggle.locator('button', { hasText: 'Unpause' }).click();
    await page.locator('tr[data-dag="fan_in_example"] .state.active').waitFor();
    await toggle.locator('input[name="reason"]').fill('the API moves tonight');
    await toggle.locator('button', { hasText: 'Pause' }).click();
    await page.locator('tr[data-dag="fan_in_example"] .state.paused').waitFor();
  }, 'backfill-pause');
  const { memo } = await platform.client.workflow.getHandle(`baton-backfill-fan_in_example-${from}-${to}`).describe();
  assert.deepEqual(memo, { by: 'dana', reason: 'two days of rates' });
  const schedule = await platform.client.schedule.getHandle('fan_in_example').describe();
  assert.deepEqual([schedule.state.paused, schedule.state.note], [true, 'paused by dana in the console: the API moves tonight']);
}, 120_000);

test('on a non-loopback address the console refuses to start without a token, and no page or action works without it', async () => {
  await assert.rejects(
    serveConsole({ host: '0.0.0.0', port: 0, env: { ...process.env, BATON_CONSOLE_TOKEN: '' } }),
    /would be open to the network: set BATON_CONSOLE_TOKEN/,
  );
  const token = 'a-token-of-the-test-0123456789';
  const open = await serveConsole({ host: '0.0.0.0', port: 0, env: { ...process.env, BATON_CONSOLE_TOKEN: token } });
  try {
    const url = open.url.replace('0.0.0.0', '127.0.0.1');
    for (const page of ['/dags', '/dags/fan_in_example', '/dags/fan_in_example/graph', `/dags/fan_in_example/runs/${base}/tasks/report`, '/assets'])
      assert.equal((await fetch(`${url}${page}`, { redirect: 'manual' })).headers.get('location'), '/login', page);
    for (const action of ['/dags/fan_in_example/pause', `/dags/fan_in_example/runs/${base}/rerun`, '/dags/orders_daily_etl/trigger'])
      assert.equal((await fetch(`${url}${action}`, { method: 'POST', body: new URLSearchParams({ reason: 'x' }) })).status, 401, action);
    assert.equal((await fetch(`${url}/dags`, { headers: { Authorization: 'Bearer not-the-token-0123456789' }, redirect: 'manual' })).status, 302);
    assert.equal((await fetch(`${url}/dags`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    assert.match(await (await fetch(`${url}/assets`, { headers: { Authorization: `Bearer ${token}` } })).text(), /<h1>Assets<\/h1>/);
    await withPage(async (page) => {
      await page.goto(`${url}/dags`);
      assert.match(page.url(), /\/login$/);
      await page.locator('input[name="token"]').fill('wrong-token-0123456789');
      await page.locator('button[type="submit"]').click();
      await page.locator('.field-error').waitFor();
      await page.locator('input[name="token"]').fill(token);
      await Promise.all([page.waitForURL(/\/dags$/), page.locator('button[type="submit"]').click()]);
      await page.locator('th a[href="/dags/fan_in_example"]').waitFor();
      // A form posted without its CSRF token is refused even when signed in.
      const status = await page.evaluate(
        async () => (await fetch('/dags/fan_in_example/pause', { method: 'POST', body: new URLSearchParams({ reason: 'x' }) })).status,
      );
      assert.equal(status, 403);
    }, 'access');
  } finally {
    await open.close();
  }
}, 120_000);
