/**
 * A test file's set-up and tear-down in one call, so that every file of a tier starts and ends
 * the same way. Each registers its own beforeAll/afterAll; what a file adds runs inside them.
 */
import { afterAll, beforeAll } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { migrateWarehouse } from '../../activities/warehouse';
import { connectClient } from '../../src/client';
import { workflowBundlerOptions } from '../../src/worker';
import { testConfig, testPool } from './platform';
import { startTimeSkippingEnv } from './temporal';
import { startWorkerProcess, type RunningWorker } from './worker';

/**
 * The integration (and chaos) tier's platform for one file: the warehouse migrated, a client on
 * the test namespace, the owner's pool for checks, and a worker process (unless `worker: false`;
 * more with startWorker). At the end: what the file gave to `atEnd` (newest first), then every
 * worker still running is stopped, the client closed and the pool ended.
 */
export function integrationPlatform({
  worker = true,
  migrate = true,
  workerEnv,
  temporalAddress,
}: {
  worker?: boolean;
  migrate?: boolean;
  workerEnv?: () => NodeJS.ProcessEnv;
  /** The Temporal server the client connects to, known in beforeAll (a file's private server); the platform's by default. */
  temporalAddress?: () => string;
} = {}) {
  const config = testConfig();
  const pool = testPool(config);
  const workers: RunningWorker[] = [];
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let client: Client | undefined;
  const startWorker = async (env: NodeJS.ProcessEnv = workerEnv?.() ?? process.env, args: string[] = []) => {
    const started = await startWorkerProcess(env, args);
    workers.push(started);
    return started;
  };
  beforeAll(async () => {
    if (migrate) await migrateWarehouse(pool);
    client = await connectClient(temporalAddress ? { ...config, temporal: { ...config.temporal, address: temporalAddress() } } : config);
    if (worker) await startWorker();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await Promise.all(workers.map((w) => w.stop()));
    await client?.connection.close();
    await pool.end();
  });
  return {
    config,
    pool,
    get client(): Client {
      if (!client) throw new Error('the client connects in beforeAll');
      return client;
    },
    /** The first worker this file started. */
    get worker(): RunningWorker {
      if (!workers[0]) throw new Error('no worker started yet');
      return workers[0];
    },
    startWorker,
    /** Runs `cleanup` at the end of the file, while the client and the pool are still open. */
    atEnd(cleanup: () => Promise<unknown> | unknown) {
      cleanups.push(cleanup);
    },
  };
}

/**
 * The workflow tier's probe set-up: the time-skipping server, and an in-process worker on
 * `taskQueue` for the workflows of `workflowsPath` with the given (mocked) activities.
 */
export function timeSkippingWorker({
  taskQueue,
  workflowsPath,
  activities,
}: {
  taskQueue: string;
  workflowsPath: string;
  /** The activities, or a function that makes them once the server is up (and may set up what they need). */
  activities?: WorkerOptions['activities'] | (() => Promise<WorkerOptions['activities']>);
}) {
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    env = await startTimeSkippingEnv();
    // The tier's point: timers and retries minutes or hours apart take no wall time.
    if (!env.supportsTimeSkipping) throw new Error('the workflow tier needs the time-skipping test server');
    const made = typeof activities === 'function' ? await (activities as () => Promise<WorkerOptions['activities']>)() : activities;
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath, bundlerOptions: workflowBundlerOptions, activities: made });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
  return {
    taskQueue,
    get env(): TestWorkflowEnvironment {
      if (!env) throw new Error('the time-skipping server starts in beforeAll');
      return env;
    },
    get client(): Client {
      return this.env.client;
    },
  };
}
