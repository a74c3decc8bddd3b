/**
 * A DAG file end to end on the real platform: `baton dags validate` and `show` read it,
 * `baton dags test` runs it once on a worker of its own against a loopback API, and a run
 * triggered like any other runs on the test worker. fan_in_example: a command and an HTTP call at
 * once, joined in SQL, then a teardown that runs whatever happened.
 */
import assert from '../support/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, test } from '@jest/globals';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundlerOptions, workflowsEntry } from '../../src/worker';
import { loadCatalog, findInCatalog } from '../../src/dag-catalog';
import { triggerRun, waitForRun, type DagRunResult } from '../../src/runs';
import { execFileAsync, integrationPlatform, repoRoot, tempDir } from '../support';

const platform = integrationPlatform({ worker: false });
let server: Server;
let apiUrl = '';
let failing = false;
const calls: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    calls.push(req.url ?? '');
    if (failing) return void res.writeHead(503).end('rates are being recomputed');
    const ds = (req.url ?? '').split('/').pop();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ds, eur: 1.08 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  await platform.startWorker({ ...process.env, BATON_CONN_EXAMPLE_API: apiUrl });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function baton(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(repoRoot, 'scripts', 'baton.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, BATON_CONN_EXAMPLE_API: apiUrl },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('baton dags validate and show read the DAG file; an unknown DAG is exit 2, naming it', async () => {
  const validated = await baton(['dags', 'validate']);
  assert.equal(validated.code, 0, validated.stderr);
  assert.match(validated.stdout, /^ok fan_in_example: 4 tasks$/m);
  const shown = await baton(['dags', 'show', 'fan_in_example', '--format', 'dot']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /"weekday" -> "report";\n {2}"fetch_rate" -> "report";\n {2}"report" -> "cleanup" \[style=dashed\];/);
  const unknown = await baton(['dags', 'validate', 'fan_out_example']);
  assert.deepEqual([unknown.code, unknown.stderr.trim()], [2, 'baton: no DAG "fan_out_example": not in src/dags.ts or workflows/dags/']);
});

test('baton dags test runs the DAG once on a worker of its own and prints its tasks as they go', async () => {
  calls.length = 0;
  const run = await baton(['dags', 'test', 'fan_in_example', '--ds', '2024-05-06']);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /^testing fan_in_example for 2024-05-06 on a worker of its own \(task queue baton-dags-test-\d+\)$/m);
  assert.match(run.stdout, /^ {2}report: success$/m);
  assert.match(run.stdout, /^fan_in_example 2024-05-06: success$/m);
  assert.match(run.stdout, /report success: ds 2024-05-06, weekday Monday, eur 1\.08/);
  assert.deepEqual(calls, ['/v1/rates/2024-05-06']);
});

test('the API failing past its retries fails the run naming the task, and the teardown still runs', async () => {
  failing = true;
  calls.length = 0;
  try {
    const run = await baton(['dags', 'test', 'fan_in_example', '--ds', '2024-05-07']);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /^ {2}fetch_rate: failed: http: GET http:\/\/127\.0\.0\.1:\d+\/v1\/rates\/2024-05-07 answered 503: rates are being recomputed$/m);
    assert.match(run.stdout, /^ {2}report: upstream_failed$/m);
    assert.match(run.stdout, /^ {2}cleanup: success$/m);
    assert.match(run.stdout, /^fan_in_example 2024-05-07: failed: task fetch_rate failed: http: GET .* answered 503/m);
    assert.equal(calls.length, 3, 'retries=2: three tries');
  } finally {
    failing = false;
  }
});

test('a run triggered as any other runs the DAG file on the worker, its branches at once', async () => {
  const dag = findInCatalog(loadCatalog(), 'fan_in_example')!;
  assert.equal(dag.workflowType, 'fan_in_example');
  const run = await triggerRun(platform.client, platform.config, dag, '2024-05-11');
  const result = await waitForRun<DagRunResult & { state: string }>(platform.client, run);
  assert.equal(result.state, 'success');
  assert.deepEqual(
    result.tasks.map((t) => [t.taskId, t.state, t.output]),
    [
      ['weekday', 'success', { exitCode: 0, tail: 'Saturday' }],
      ['fetch_rate', 'success', { status: 200, bytes: 30 }],
      ['report', 'success', { ds: '2024-05-11', weekday: 'Saturday', eur: '1.08' }],
      ['cleanup', 'success', { exitCode: 0, tail: 'cleaned up after 2024-05-11' }],
    ],
  );
  const { events } = await platform.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
  const batches = (events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a && a.activityType?.name?.startsWith('operator') ? [`${a.activityType.name}@${a.workflowTaskCompletedEventId}`] : [];
  });
  assert.equal(batches[0].split('@')[1], batches[1].split('@')[1], `weekday and fetch_rate scheduled by one workflow task: ${batches.join(', ')}`);
});

test("baton dags record saves the run's history under the next free name, and it replays against the code", async () => {
  const dir = await tempDir('baton-histories-');
  const first = await baton(['dags', 'record', 'fan_in_example', '--ds', '2024-05-08', '--scenario', 'happy', '--histories-dir', dir]);
  assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
  assert.match(first.stdout, /^history saved to .*fan_in_example-happy-v1\.json: the replay tier replays it against every later change$/m);
  const second = await baton(['dags', 'record', 'fan_in_example', '--ds', '2024-05-09', '--scenario', 'happy', '--histories-dir', dir]);
  assert.match(second.stdout, /fan_in_example-happy-v2\.json/);
  const history = historyFromJSON(JSON.parse(await readFile(path.join(dir, 'fan_in_example-happy-v1.json'), 'utf8')));
  assert.equal(history.events?.[0].workflowExecutionStartedEventAttributes?.workflowType?.name, 'fan_in_example');
  await Worker.runReplayHistory({ workflowsPath: workflowsEntry(), bundlerOptions: workflowBundlerOptions }, history);
  const bad = await baton(['dags', 'record', 'fan_in_example', '--ds', '2024-05-08', '--scenario', 'Happy Path']);
  assert.deepEqual([bad.code, bad.stderr.trim()], [2, 'baton: --scenario "Happy Path": lower-case letters, digits and -']);
});
