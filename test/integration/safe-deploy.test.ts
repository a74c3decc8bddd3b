/**
 * Safe deploys, Baton's answer to Airflow's DAG versioning. A run of deploy_demo waits at its
 * sensor; the worker is replaced by one running changed DAG code (an audit task added, behind
 * patched()); the waiting run finishes on its old path, a new run takes the new one. The
 * replay check that gates such a deploy passes for the patched change and fails for the same
 * change made without the patch.
 */
import assert from '../support/assert';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { connectClient } from '../../src/client';
import { addDays } from '../../src/logical-date';
import { workflowBundlerOptions } from '../../src/worker';
import type { DeployDemoResult } from '../deploy/dag';
import { repoRoot, startWorkerProcess, tempDir, testConfig, type RunningWorker } from '../support';

const config = testConfig();
const base = addDays('2070-01-01', (Math.floor(Date.now() / 1000) % 3000) * 2);
const bundles: Record<string, string> = {};
let dir = '';
let client: Client;
const workers: RunningWorker[] = [];
// The sensor waits for as long as the test needs (the test runner's 3 s time-out would end it).
const env = { ...process.env, BATON_SENSOR_TIMEOUT: '10m', BATON_SENSOR_POKE_INTERVAL: '1s' };

beforeAll(async () => {
  dir = await tempDir('baton-deploy-');
  client = await connectClient(config);
  for (const version of ['v1', 'v2', 'v2-unpatched']) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(repoRoot, 'test', 'deploy', version),
      ...workflowBundlerOptions,
      logger: new DefaultLogger('WARN'),
    });
    bundles[version] = path.join(dir, `${version}.js`);
    await writeFile(bundles[version], code);
  }
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await client?.connection.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const startWorker = async (version: string) => {
  const worker = await startWorkerProcess(env, ['--workflow-bundle', bundles[version]]);
  workers.push(worker);
  return worker;
};

/** Waits until the run's wait_for_file is checking for its file. */
async function waitingAtSensor(workflowId: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const tasks = await client.workflow
      .getHandle(workflowId)
      .query<DeployDemoResult>('tasks')
      .catch(() => []);
    if (tasks.find((t) => t.taskId === 'wait_for_file')?.state === 'running') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${workflowId} never reached its sensor`);
}

test('a DAG changed behind patched() while a run waits at its sensor: the old run keeps its path, new runs take the new one', async () => {
  const [oldDs, newDs] = [base, addDays(base, 1)];
  const v1 = await startWorker('v1');
  const oldRun = await client.workflow.start('deployDemo', { taskQueue: 'etl', workflowId: `deploy_demo-${oldDs}`, args: [{ ds: oldDs }] });
  await waitingAtSensor(oldRun.workflowId);

  // The deploy: the old worker drains and stops; the new code comes up.
  await v1.stop();
  const v2 = await startWorker('v2');
  const newRun = await client.workflow.start('deployDemo', { taskQueue: 'etl', workflowId: `deploy_demo-${newDs}`, args: [{ ds: newDs }] });
  await waitingAtSensor(newRun.workflowId);

  await mkdir(path.join(config.dataDir, 'deploy'), { recursive: true });
  for (const ds of [oldDs, newDs]) await writeFile(path.join(config.dataDir, 'deploy', `${ds}.ready`), '');
  const oldTasks = (await oldRun.result()) as DeployDemoResult;
  const newTasks = (await newRun.result()) as DeployDemoResult;
  assert.deepEqual(
    oldTasks.map((t) => `${t.taskId}:${t.state}`),
    ['wait_for_file:success', 'load:success'],
    'the run started on v1 finished on its old path',
  );
  assert.deepEqual(
    newTasks.map((t) => `${t.taskId}:${t.state}`),
    ['wait_for_file:success', 'audit:success', 'load:success'],
    'a new run takes the new path',
  );

  // Both finished on the new worker: the old run's history replayed on v2 code.
  const history = await oldRun.fetchHistory();
  const loadStarted = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).at(-1)?.activityTaskStartedEventAttributes?.identity;
  assert.ok(loadStarted?.startsWith(`${v2.child.pid}@`), `load ran on ${loadStarted}, not the new worker (pid ${v2.child.pid})`);

  // The replay gate a deploy passes first: the patched change replays, the unpatched one does not.
  const replay = async (version: string) => {
    try {
      await Worker.runReplayHistory({ workflowBundle: { codePath: bundles[version] } }, history, oldRun.workflowId);
      return 'replays';
    } catch (err) {
      return err instanceof DeterminismViolationError ? 'DeterminismViolationError' : String(err);
    }
  };
  assert.equal(await replay('v2'), 'replays');
  assert.equal(await replay('v2-unpatched'), 'DeterminismViolationError');
});
