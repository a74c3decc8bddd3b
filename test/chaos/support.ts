/**
 * The chaos tier's helpers. Bounded by default (part of `npm test`); `npm run test:chaos` sets
 * BATON_CHAOS=full for the documented sizes (1M rows, 20 kills).
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll } from '@jest/globals';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { loadServiceSettings } from '../../src/config';
import { addDays } from '../../src/logical-date';
import { LocalTemporal } from '../../src/platform';
import { freePort, integrationPlatform, type RunningWorker, tempDir, testConfig, testNote } from '../support';

export const FULL = process.env.BATON_CHAOS === 'full';

/**
 * Every chaos worker: a task on a dead worker starts again after 3 s without a heartbeat (30 s
 * by default), and injected faults never use up a task's retries (Airflow's retries=2 would
 * end a run that loses its worker three times in one task, as Airflow does).
 */
export function chaosEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, BATON_HEARTBEAT_TIMEOUT: '3s', BATON_RETRY_ATTEMPTS: '50', ...extra };
}

/**
 * A chaos file's platform (integrationPlatform), its workers started with the chaos environment
 * (chaosEnv). `privateTemporal`: the file's client and workers use a Temporal dev server of the
 * file's own (headless, its SQLite file in a temporary folder), which the test may stop and start
 * (`temporal`) while the other lanes' files go on on the platform's.
 */
export function chaosPlatform({ privateTemporal = false }: { privateTemporal?: boolean } = {}) {
  let temporal: LocalTemporal | undefined;
  let home = '';
  const namespace = testConfig().temporal.namespace;
  if (privateTemporal) {
    beforeAll(async () => {
      home = await tempDir('baton-temporal-');
      const address = `127.0.0.1:${await freePort()}`;
      temporal = new LocalTemporal({ ...loadServiceSettings(), home, temporalAddress: address }, { headless: true });
      await temporal.ensure(() => undefined, [namespace]);
    });
  }
  const privateServer = () => {
    if (!temporal) throw new Error(privateTemporal ? 'the private Temporal server starts in beforeAll' : 'this chaos file has no private Temporal server');
    return temporal;
  };
  const address = () => privateServer().address;
  const platform = integrationPlatform({ worker: false, ...(privateTemporal ? { temporalAddress: address } : {}) });
  if (privateTemporal) {
    // After the platform's own (hooks run in the order declared): its workers and client are closed by then.
    afterAll(async () => {
      await temporal?.stop(() => undefined);
      if (home) await rm(home, { recursive: true, force: true });
    });
  }
  return {
    config: platform.config,
    pool: platform.pool,
    get client(): Client {
      return platform.client;
    },
    /** The file's private server (privateTemporal): the test stops it, and starts it again with restartTemporal. */
    get temporal(): LocalTemporal {
      return privateServer();
    },
    restartTemporal: () => privateServer().ensure(() => undefined, [namespace]),
    startWorker: (extra: NodeJS.ProcessEnv = {}): Promise<RunningWorker> =>
      platform.startWorker(chaosEnv({ ...(privateTemporal ? { TEMPORAL_ADDRESS: address() } : {}), ...extra })),
    atEnd: platform.atEnd,
  };
}

/** A date no earlier run of the suite used: each test file owns a stride of days. */
export function freshDs(stride: number): string {
  return addDays('2060-01-01', (Math.floor(Date.now() / 1000) % 3_000) * 8 + stride);
}

/** The kill times of a run are reproducible from the seed it prints. */
export { prng } from '../../scripts/sample-orders';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PendingTask {
  activityType: string;
  attempt: number;
  state: 'scheduled' | 'started';
  /** The identity (pid@host) of the worker running it, when started. */
  worker?: string;
}

/** The run's activities the server has scheduled or started right now. */
export async function pendingTasks(client: Client, workflowId: string): Promise<PendingTask[]> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  return (raw.pendingActivities ?? []).map((a) => ({
    activityType: a.activityType?.name ?? '?',
    attempt: a.attempt ?? 1,
    state: a.state === 2 ? 'started' : 'scheduled',
    ...(a.lastWorkerIdentity ? { worker: a.lastWorkerIdentity } : {}),
  }));
}

/** Polls until `check` gives a value (or throws after `timeoutMs`). */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 180_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Waits until `activityType` runs (started on a worker) in the run. */
export const whenRunning = (client: Client, workflowId: string, activityType: string, timeoutMs?: number) =>
  waitUntil(
    `${workflowId}: ${activityType} running`,
    async () => (await pendingTasks(client, workflowId)).find((t) => t.activityType === activityType && t.state === 'started'),
    timeoutMs,
  );

/** SIGKILL: the worker gets no chance to finish, report or clean up. */
export async function killWorker(worker: RunningWorker): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = new Promise((r) => worker.child.once('exit', r));
  worker.child.kill('SIGKILL');
  await exited;
}

/** A run's result; a chaos test's client may see the server go away and come back meanwhile. */
export async function resultThroughOutages<T>(handle: WorkflowHandle, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await handle.result()) as T;
    } catch (err) {
      const transient = /UNAVAILABLE|ECONNREFUSED|connection|transport|deadline/i.test(String((err as Error).message));
      if (!transient || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

/** One line for the suite's summary (the README's figures come from a full run). */
export function report(line: string): void {
  testNote(`chaos: ${line}`);
}
