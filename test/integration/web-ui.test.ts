/**
 * What a user sees of Baton's runs in the Temporal Web UI, read in headless Chromium
 * (playwright-core driving Debian's chromium): the task table each run publishes as its
 * current details, the one-line summary of each task's activity, and a failed run's error.
 *
 * The Web UI (2.54, bundled with the Temporal CLI) shows current details on the run's
 * "User Metadata" tab only, rendered from markdown inside an iframe, and fetches them with the
 * `__temporal_workflow_metadata` query: a worker must be polling the task queue, or the panel
 * stays empty without a word. So the worker keeps running while the pages are read.
 */
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import assert from '../support/assert';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { WorkflowFailedError } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { Queries, type TaskRecord } from '../../src/contracts';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { addDays } from '../../src/logical-date';
import { triggerRun, waitForRun, type StartedRun } from '../../src/runs';
import { generateOrders } from '../../scripts/sample-orders';
import { launchChromium, integrationPlatform } from '../support';

const platform = integrationPlatform();
const { config } = platform;
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
platform.atEnd(() => browser?.close());
// Dates of their own on every run: the dev server keeps every earlier run of a workflow id.
const base = addDays('2300-01-01', (Math.floor(Date.now() / 1000) % 20_000) * 2);

const rawFile = (ds: string) => path.join(config.dataDir, 'raw', `orders_${ds}.csv`);

/** The run's page `tab` (`history`, `user-metadata`) in a fresh page; a screenshot in .baton/ when `check` fails. */
async function onRunPage(run: StartedRun, tab: string, check: (page: Page) => Promise<void>): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
  page.setDefaultTimeout(20_000);
  try {
    await page.goto(run.url.replace(/\/history$/, `/${tab}`));
    await check(page);
  } catch (err) {
    const shot = path.join(config.home, `web-ui-${run.workflowId}-${tab}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    (err as Error).message += `\n(screenshot of ${page.url()}: ${shot})`;
    throw err;
  } finally {
    await page.close();
  }
}

interface TaskRow {
  task: string;
  state: string;
  duration: string;
  output: string;
}

/** The task table on the "User Metadata" tab, as the Web UI renders it. */
async function currentDetails(page: Page): Promise<{ header: string[]; rows: TaskRow[] }> {
  const panel = page.getByText('Current Details', { exact: true }).locator('xpath=ancestor::div[.//iframe][1]');
  const table = panel.locator('iframe').contentFrame();
  await table.locator('tbody tr').first().waitFor();
  const [header, ...cells] = await table
    .locator('tr')
    .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => (cell.textContent ?? '').trim())));
  return { header, rows: cells.map(([task, state, duration, output]) => ({ task, state, duration, output })) };
}

function taskRow(rows: TaskRow[], task: string): TaskRow {
  const row = rows.find((r) => r.task === task);
  assert.ok(row, `no row for ${task} in ${JSON.stringify(rows)}`);
  return row;
}

/** The event history as the Web UI lists it: one line of text per event, oldest first. */
async function historyRows(page: Page, lastEvent: string): Promise<string[]> {
  // (The event type's icon carries an SVG title, so its cell's text is not the bare event type.)
  await page.locator('tbody tr').filter({ hasText: lastEvent }).first().waitFor();
  const rows = await page.locator('tbody tr').allInnerTexts();
  return rows.map((r) => r.replace(/\s+/g, ' ').trim()).reverse();
}

test('a finished run shows its task table as current details and a summary per task', async () => {
  const ds = base;
  const seed = await generateOrders({ ds, rows: 200, badRate: 0.05, seed: 2300, file: rawFile(ds) });
  const run = await triggerRun(platform.client, config, ordersDailyEtlDag, ds);
  const result = await waitForRun<OrdersDailyEtlResult>(platform.client, run);
  assert.equal(result.state, 'success');
  assert.deepEqual([result.rowCount, result.loadedRows, result.rejectedRows], [200, seed.expectedLoaded, seed.expectedRejected]);

  await onRunPage(run, 'user-metadata', async (page) => {
    const { header, rows } = await currentDetails(page);
    assert.deepEqual(header, ['task', 'state', 'duration', 'output']);
    // Every task of the run, in the DAG's order, in the state the run ended with.
    assert.deepEqual(
      rows.map((r) => `${r.task}:${r.state}`),
      result.tasks.map((t) => `${t.taskId}:${t.state}`),
    );
    const output = (task: string) => [taskRow(rows, task).state, taskRow(rows, task).output];
    assert.deepEqual(output('extract'), ['success', `rowCount=200 rejected=${seed.expectedRejected - seed.byKind.duplicate_order_id} lines=201`]);
    assert.deepEqual(output('load'), ['success', `loadedRows=${seed.expectedLoaded} rejectedRows=${seed.expectedRejected}`]);
    assert.deepEqual(output('dbt_run'), ['success', 'stg_orders=success daily_revenue=success']);
    for (const r of rows.filter((r) => r.state === 'success')) assert.match(r.duration, /^\d+\.\ds$/, `duration of ${r.task}`);
  });

  await onRunPage(run, 'history', async (page) => {
    const summaries = (await historyRows(page, 'Workflow Execution Completed'))
      .filter((r) => r.includes('Activity Task Scheduled'))
      .map((r) => / Summary (\S+:.*)$/.exec(r)?.[1])
      .filter((s) => s && /^(extract|transform|load|validate|dbt_run):/.test(s));
    assert.deepEqual(summaries, [
      `extract: read raw/orders_${ds}.csv under the orders contract into staging`,
      'transform: one row per order_id of the records staged',
      `load: audit and publish partition ds=${ds} of warehouse.orders`,
      `validate: 5 data checks on ds=${ds}`,
      "dbt_run: dbt run --select tag:orders on the worker's target",
    ]);
  });
});

test('a failed run shows its error on its page and in its task table', async () => {
  const ds = addDays(base, 1);
  await mkdir(path.dirname(rawFile(ds)), { recursive: true });
  await writeFile(rawFile(ds), 'id,customer,date,amount\n1,2,x,3\n');
  const error = `${rawFile(ds)}: line 1: wrong header: expected "order_id,customer_id,order_date,amount,status", found "id,customer,date,amount"`;
  const run = await triggerRun(platform.client, config, ordersDailyEtlDag, ds);
  await assert.rejects(waitForRun(platform.client, run), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.cause?.message, `task extract failed: ${error}`);
    return true;
  });

  await onRunPage(run, 'history', async (page) => {
    const rows = await historyRows(page, 'Workflow Execution Failed');
    assert.equal(await page.getByTestId('execution-status').innerText(), 'FAILED');
    assert.equal(/ Workflow Execution Failed Failure Message (.*)$/.exec(rows.at(-1)!)?.[1], `task extract failed: ${error}`);
  });

  const tasks = await platform.client.workflow.getHandle(run.workflowId, run.runId).query<TaskRecord[]>(Queries.tasks);
  await onRunPage(run, 'user-metadata', async (page) => {
    const { rows } = await currentDetails(page);
    assert.deepEqual(
      rows.map((r) => `${r.task}:${r.state}`),
      tasks.map((t) => `${t.taskId}:${t.state}`),
    );
    // The task table puts the error in a code span, so the Web UI's markdown shows it as written.
    assert.deepEqual([taskRow(rows, 'extract').state, taskRow(rows, 'extract').output], ['failed', `error: ${error}`]);
  });
});
