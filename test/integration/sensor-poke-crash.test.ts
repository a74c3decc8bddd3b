/**
 * A poke-mode FileSensor across a SIGKILLed worker, on the real dev server: the poke is retried
 * after its heartbeat time-out and resumes from its heartbeat, with the same first-check time
 * and the check count going on. One sensor then finds its file; another, whose time-out (from
 * its first check) ran out while no worker was up, times out at once instead of starting its
 * clock again. The workers are child processes (sensor-probe-worker.ts) on a task queue of
 * this run's own; the production bundle has no poke-mode sensor.
 */
import assert from '../support/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, DefaultFailureConverter, defaultPayloadConverter, TimeoutFailure } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { connectClient } from '../../src/client';
import { workflowBundlerOptions } from '../../src/worker';
import type { FileSensorSpec, SensorOptions, SensorOutcome } from '../../workflows/sensors';
import { repoRoot, tempDir, testConfig } from '../support';

const config = testConfig();
const suffix = `${Date.now().toString(36)}-${process.pid}`;
const taskQueue = `sensor-poke-crash-${suffix}`;
const dir = `sensor-poke-crash/${suffix}`;
const interval = { ds: '2024-01-15', dataIntervalStart: '2024-01-15T06:00:00.000Z', dataIntervalEnd: '2024-01-16T06:00:00.000Z' };
/** The late sensor's time-out: long enough to crash the worker inside it on a busy machine, short enough to wait out. */
const LATE_TIMEOUT_MS = 12_000;
const poke = (timeoutMs: number): SensorOptions => ({ mode: 'poke', pokeInterval: '1s', timeout: `${timeoutMs / 1000}s`, heartbeatTimeout: '3s' });

let client: Client;
let bundleDir: string;
let bundlePath: string;
const workers: ProbeWorker[] = [];
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  client = await connectClient(config);
  await mkdir(path.join(config.dataDir, dir), { recursive: true });
  // Bundled once here, so a restarted worker is polling again within seconds.
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflow/sensor-probe'),
    ...workflowBundlerOptions,
    logger: new DefaultLogger('ERROR'),
  });
  bundleDir = await tempDir('baton-sensor-probe-');
  bundlePath = path.join(bundleDir, 'sensor-probe-bundle.js');
  await writeFile(bundlePath, bundle.code);
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.kill()));
  for (const handle of handles) await handle.terminate('test over').catch(() => undefined);
  await client?.connection.close();
  await rm(path.join(config.dataDir, dir), { recursive: true, force: true });
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

interface ProbeWorker {
  child: ChildProcess;
  /** When it said it polls. */
  readyAt: number;
  output: () => string;
  kill: () => Promise<void>;
}

async function startProbeWorker(): Promise<ProbeWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/sensor-probe-worker.ts', taskQueue, bundlePath], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: ProbeWorker = {
    child,
    readyAt: 0,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  workers.push(worker);
  const deadline = Date.now() + 60_000;
  while (!output.includes('sensor probe worker ready')) {
    if (child.exitCode !== null) throw new Error(`sensor probe worker exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`sensor probe worker not ready after 60s:\n${output}`);
    await sleep(100);
  }
  worker.readyAt = Date.now();
  return worker;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000}s\n${workers.map((w) => w.output()).join('\n---\n')}`);
    await sleep(200);
  }
}

/** What the pokeFile activity heartbeats. */
interface PokeProgress {
  firstCheckAt: number;
  checks: number;
}

interface PokeAttempt {
  attempt: number;
  progress?: PokeProgress;
  lastFailure?: Error;
}

const failureConverter = new DefaultFailureConverter();

/** The sensor's pending poke as the server sees it: attempt, last heartbeat details, last failure. */
async function pokeAttempt(handle: WorkflowHandle): Promise<PokeAttempt | undefined> {
  const { raw } = await handle.describe();
  const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'pokeFile');
  if (!pending) return undefined;
  const details = pending.heartbeatDetails?.payloads?.[0];
  return {
    attempt: pending.attempt ?? 0,
    ...(details ? { progress: defaultPayloadConverter.fromPayload<PokeProgress>(details) } : {}),
    ...(pending.lastFailure ? { lastFailure: failureConverter.failureToError(pending.lastFailure, defaultPayloadConverter) } : {}),
  };
}

type Heartbeated = PokeAttempt & { progress: PokeProgress };

/** Polls the pending poke until it has heartbeated and `ok` holds. */
const pokeWhere = (handle: WorkflowHandle, what: string, ok: (a: Heartbeated) => boolean) =>
  waitFor(`${handle.workflowId}: ${what}`, async () => {
    const a = await pokeAttempt(handle);
    return a?.progress && ok(a as Heartbeated) ? (a as Heartbeated) : undefined;
  });

async function startSensor(name: string, timeoutMs: number): Promise<{ handle: WorkflowHandle; file: string }> {
  const spec: FileSensorSpec = { pathTemplate: `${dir}/${name}_{{ ds_nodash }}.csv`, settle: '0s' };
  const handle = await client.workflow.start('sensorProbe', {
    taskQueue,
    workflowId: `sensor-poke-crash-${name}-${suffix}`,
    args: [spec, poke(timeoutMs), interval],
    workflowExecutionTimeout: '10m',
  });
  handles.push(handle);
  return { handle, file: `${dir}/${name}_20240115.csv` };
}

test('a poke-mode FileSensor resumes from its heartbeat after its worker is SIGKILLed mid-wait', async () => {
  let worker = await startProbeWorker();
  const found = await startSensor('found', 300_000);
  const late = await startSensor('late', LATE_TIMEOUT_MS);

  // Both poking, with a few checks heartbeated.
  const [foundBefore, lateBefore] = await Promise.all(
    [found.handle, late.handle].map((h) => pokeWhere(h, 'two checks heartbeated', (a) => a.progress.checks >= 2)),
  );
  assert.equal(foundBefore.attempt, 1);
  assert.ok(Date.now() < lateBefore.progress.firstCheckAt + LATE_TIMEOUT_MS - 2_000, "the worker must die well inside the late sensor's time-out");

  await worker.kill();

  // No worker: each poke times out on its heartbeat and is retried, keeping its last heartbeat.
  const retried = async (handle: WorkflowHandle, before: PokeProgress) => {
    const a = await pokeWhere(handle, 'retried after the kill', (x) => x.attempt >= 2);
    assert.equal(a.attempt, 2);
    assert.ok(a.lastFailure instanceof TimeoutFailure, `last failure: ${a.lastFailure}`);
    assert.equal(a.lastFailure.timeoutType, 'HEARTBEAT');
    assert.equal(a.progress.firstCheckAt, before.firstCheckAt);
    assert.ok(a.progress.checks >= before.checks);
    return a.progress;
  };
  const foundCrashed = await retried(found.handle, foundBefore.progress);
  const lateCrashed = await retried(late.handle, lateBefore.progress);

  // The late sensor's time-out, counted from its first check, runs out while no worker is up.
  await sleep(Math.max(0, lateCrashed.firstCheckAt + LATE_TIMEOUT_MS + 500 - Date.now()));
  worker = await startProbeWorker();

  // The late sensor's resumed attempt checks once more and times out, instead of waiting a new time-out.
  await assert.rejects(late.handle.result(), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, 'SensorTimeout');
    assert.equal(err.cause.message, `sensor timed out after ${LATE_TIMEOUT_MS / 1000}s and ${lateCrashed.checks + 1} checks: ${late.file} does not exist yet`);
    return true;
  });
  const { closeTime } = await late.handle.describe();
  assert.ok(
    closeTime && closeTime.getTime() - worker.readyAt < LATE_TIMEOUT_MS,
    `closed ${closeTime!.getTime() - worker.readyAt} ms after the new worker was up`,
  );

  // The found sensor's resumed attempt goes on counting from the same first check.
  const resumed = await pokeWhere(found.handle, 'checking again on the new worker', (a) => a.progress.checks > foundCrashed.checks);
  assert.equal(resumed.attempt, 2);
  assert.equal(resumed.progress.firstCheckAt, foundBefore.progress.firstCheckAt);

  await writeFile(path.join(config.dataDir, found.file), 'order_id,customer_id,order_date,amount,status\n');
  const outcome = (await found.handle.result()) as SensorOutcome;
  assert.equal(outcome.found, true);
  assert.ok(outcome.checks > resumed.progress.checks, `found after ${outcome.checks} checks, ${resumed.progress.checks} before the file was written`);
});
