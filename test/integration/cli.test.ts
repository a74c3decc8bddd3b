/**
 * The user's paths from a terminal: `npm run seed`, `baton trigger --wait`, `baton schedules
 * sync`, and clear errors with exit code 2 for bad input, before anything is created.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { connectClient } from '../../src/client';
import type { SeedSummary } from '../../src/seed';
import { count, execFileAsync, repoRoot, startWorkerProcess, testConfig, testPool, type RunningWorker } from '../support';

const config = testConfig();
const pool = testPool(config);
let worker: RunningWorker;
let client: Client;

before(async () => {
  worker = await startWorkerProcess();
  client = await connectClient(config);
});
after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await pool.end();
});

async function cli(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = script === 'baton' ? [path.join(repoRoot, 'scripts', 'baton.js'), ...args] : ['--import', 'tsx', path.join(repoRoot, 'scripts', `${script}.ts`), ...args];
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, argv, { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('seed a file, then baton trigger --wait loads exactly the expected rows', async () => {
  const ds = '2031-04-01';
  const seeded = await cli('seed', ['--ds', ds, '--rows', '2500', '--bad-rate', '0.02', '--seed', '9']);
  assert.equal(seeded.code, 0, seeded.stderr);
  const seed = JSON.parse(seeded.stdout) as SeedSummary;
  assert.equal(seed.file, path.join(config.dataDir, 'raw', `orders_${ds}.csv`));
  assert.equal(seed.badRows, 50);

  const run = await cli('baton', ['trigger', 'orders_daily_etl', '--ds', ds, '--wait', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { workflowId: string; url: string; result: { loadedRows: number; rejectedRows: number } };
  assert.equal(out.workflowId, `orders_daily_etl-${ds}`);
  assert.match(out.url, new RegExp(`^http://localhost:8233/namespaces/baton-test/workflows/orders_daily_etl-${ds}/[0-9a-f-]+/history$`));
  assert.deepEqual([out.result.loadedRows, out.result.rejectedRows], [seed.expectedLoaded, 50]);
  assert.equal(await count(pool, 'SELECT count(*) AS n FROM warehouse.orders WHERE ds = $1', [ds]), seed.expectedLoaded);
});

test('baton schedules sync creates the schedule from the DAG definition, then changes nothing', async () => {
  await client.schedule.getHandle('orders_daily_etl').delete().catch((err) => {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  });
  assert.deepEqual(await cli('baton', ['schedules', 'sync', '--json']).then((r) => JSON.parse(r.stdout)), { orders_daily_etl: 'created' });
  assert.deepEqual(await cli('baton', ['schedules', 'sync', '--json']).then((r) => JSON.parse(r.stdout)), { orders_daily_etl: 'unchanged' });
  const schedule = await client.schedule.getHandle('orders_daily_etl').describe();
  assert.equal(schedule.spec.timezone, 'UTC');
  assert.equal(schedule.policies.overlap, 'BUFFER_ALL');
  assert.equal(schedule.policies.catchupWindow, 60_000);
  assert.equal(schedule.action.type, 'startWorkflow');
  assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.taskQueue, 'etl');
  assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'ordersDailyEtl');
  // The cron 0 6 * * * as the server stores it: 06:00 every day.
  assert.deepEqual(
    schedule.spec.calendars?.map((c) => [c.hour, c.minute]),
    [[[{ start: 6, end: 6, step: 1 }], [{ start: 0, end: 0, step: 1 }]]],
  );
});

test('bad input: exit code 2 and a message that names the problem', async () => {
  const unknown = await cli('baton', ['trigger', 'orders_daily', '--ds', '2024-01-15']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown DAG "orders_daily"; known: orders_daily_etl/);
  const badDate = await cli('baton', ['trigger', 'orders_daily_etl', '--ds', '2024-02-30']);
  assert.equal(badDate.code, 2);
  assert.match(badDate.stderr, /ds "2024-02-30" is not a real calendar date/);
  const traversal = await cli('seed', ['--ds', '../../etc', '--rows', '1']);
  assert.equal(traversal.code, 2);
  assert.match(traversal.stderr, /ds "..\/..\/etc" is not a date in the form YYYY-MM-DD/);
});
