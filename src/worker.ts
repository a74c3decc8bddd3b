/**
 * The worker process: connects to Temporal and Postgres once, makes sure the warehouse
 * schema exists, and runs Baton's workflows and activities on the `etl` task queue.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type BundleOptions } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../activities';
import { createConnections, type PoolFor } from './data/connections';
import type { WorkerClients } from '../activities/operators/contracts';
import { migrateWarehouse } from '../activities/warehouse';
import type { Client } from '@temporalio/client';
import { connectClient, temporalConnectionOptions } from './client';
import { projectRoot, redactUrl, type Config } from './config';
import { loadDags, loadUserActivities, loadValidDags, writeWorkflowsEntry, type LoadedDag } from './dag-files';
import { announceDagServer, withdrawDagServer } from './dag-servers';
import { syncSchedules } from './schedules';
import { installRuntimeLogger, metricsUrl, type Logger } from './logging';

/**
 * How `workflows/` is bundled, everywhere a bundle is made (worker, replay tests). Installed from
 * npm, Baton's workflows are TypeScript under node_modules/baton, which the bundler's loader
 * would leave out as a package's: the loader takes every .ts file outside other packages.
 */
export const workflowBundlerOptions: Pick<BundleOptions, 'webpackConfigHook'> = {
  webpackConfigHook: (config) => {
    // `baton/sdk` is this Baton's SDK, wherever the DAG files are (a team's repository, a folder of a test).
    // Packages (Temporal's workflow runtime) from where Baton's come too, for DAG files whose folder has no node_modules.
    config.resolve = {
      ...config.resolve,
      alias: { ...(config.resolve?.alias as Record<string, string> | undefined), 'baton/sdk$': path.join(projectRoot, 'src', 'sdk', 'index.ts') },
      modules: [...(config.resolve?.modules ?? ['node_modules']), batonPackages],
    };
    for (const rule of config.module?.rules ?? []) {
      if (rule && typeof rule === 'object' && rule.test instanceof RegExp && rule.test.source === '\\.ts$') rule.exclude = isOtherPackage;
    }
    return config;
  },
};

/** The node_modules folder Baton's own packages are installed in (its own, or the project's that installed it). */
const batonPackages = path.resolve(require.resolve('@temporalio/workflow/package.json'), '..', '..', '..');

/** A file of a package other than Baton (whose own files may sit under a node_modules folder). */
function isOtherPackage(file: string): boolean {
  const rel = path.relative(projectRoot, file);
  const outside = rel.startsWith('..') || path.isAbsolute(rel);
  return (outside ? file : rel).split(path.sep).includes('node_modules');
}

/** The workflows to bundle: Baton's own and every DAG file's of the folder (the project's by default), written now. */
export const workflowsEntry = (dagsDir?: string): string => writeWorkflowsEntry(dagsDir);

export interface WorkerOptions {
  /** Bundle once and reuse (tests); by default the worker bundles `workflows/` itself. */
  workflowBundle?: { code: string } | { codePath: string };
  /** The task queue to poll; `etl` by default. */
  taskQueue?: string;
  maxConcurrentActivityTaskExecutions?: number;
  /** Stops the worker as SIGTERM does (a worker embedded in another process, a test). */
  signal?: AbortSignal;
  /** Activities besides Baton's and the DAG files' (the benchmarks' own instruments), made with the worker's clients and DAG files. */
  activities?: (clients: WorkerClients, dags: readonly LoadedDag[]) => Record<string, (input: never) => Promise<unknown>>;
}

/** What a worker wires once: its clients, shared by every Temporal worker it runs (a reload's too). */
interface WorkerShared {
  config: Config;
  logger: Logger;
  pool: Pool;
  poolFor: PoolFor;
  connection: NativeConnection;
  client: Client;
  options: WorkerOptions;
}

async function connectShared(config: Config, logger: Logger, options: WorkerOptions): Promise<WorkerShared> {
  installRuntimeLogger(logger, config.metrics);
  const pool = new Pool({ connectionString: config.databaseUrl, max: 10, application_name: 'baton-worker' });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle Postgres connection failed'));
  const poolFor = createConnections(pool, config.connections);
  await migrateWarehouse(pool, config.project.dagsDir);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const client = await connectClient(config);
  return { config, logger, pool, poolFor, connection, client, options };
}

/** A Temporal worker serving `dags` (their workflows bundled now, unless a bundle is given), with Baton's activities and theirs. */
async function dagWorker(shared: WorkerShared, dags: readonly LoadedDag[], bundle?: WorkerOptions['workflowBundle']): Promise<Worker> {
  const { config, logger, pool, poolFor, connection, client, options } = shared;
  const activities = createActivities({ pool, poolFor, logger, config, client, dags });
  // A DAG's own tasks get the same clients.
  const context: WorkerClients = { pool, connection: poolFor, config, logger };
  const userActivities = Object.assign({}, ...dags.map((d) => loadUserActivities(d, context)));
  const slots = options.maxConcurrentActivityTaskExecutions ?? 10;
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.project.taskQueue,
    identity: workerIdentity,
    ...(bundle
      ? { workflowBundle: bundle }
      : {
          workflowsPath: writeWorkflowsEntry(config.project.dagsDir, undefined, dags),
          bundlerOptions: workflowBundlerOptions,
        }),
    activities: { ...activities, ...userActivities, ...options.activities?.(context, dags) },
    maxConcurrentActivityTaskExecutions: slots,
    // Fewer pollers than slots, so a slot is free when a workflow task schedules the next
    // activity and the worker takes it at once instead of a round trip through the queue.
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: Math.max(1, Math.min(5, slots - 2)) },
    // Development reloads drain as a deploy does: running tasks get time to finish before they are cancelled.
    ...(config.watchDags ? { shutdownGraceTime: '2m', shutdownForceTime: '3m' } : {}),
  });
}

/** This process's worker identity in Temporal and in baton.dag_servers. */
const workerIdentity = `${process.pid}@${hostname()}:${randomUUID().slice(0, 8)}`;

/** Announces what the worker serves now, and again every 10 s until `stop` (which takes it back). */
function announce(shared: WorkerShared, dags: () => readonly LoadedDag[]) {
  const server = () => ({
    worker: workerIdentity,
    namespace: shared.config.temporal.namespace,
    taskQueue: shared.options.taskQueue ?? shared.config.project.taskQueue,
    workflowTypes: dags().map((d) => d.dag.workflowType),
  });
  let stopping = false;
  let telling: Promise<void> = Promise.resolve();
  const tell = () =>
    (telling = stopping
      ? telling
      : announceDagServer(shared.pool, server()).catch((err: Error) => shared.logger.warn({ err: err.message }, 'could not announce the DAGs served')));
  const timer = setInterval(() => void tell(), 10_000);
  timer.unref();
  return {
    now: tell,
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await telling; // an announcement under way lands before the row is taken back
      await withdrawDagServer(shared.pool, workerIdentity).catch(() => undefined);
    },
  };
}

function logReady(shared: WorkerShared, dags: readonly LoadedDag[]): void {
  const { config, options, logger } = shared;
  logger.info(
    {
      taskQueue: options.taskQueue ?? config.project.taskQueue,
      namespace: config.temporal.namespace,
      temporal: config.temporal.address,
      tls: config.temporal.tls ? (config.temporal.tls.clientCertPath ? 'mTLS' : 'TLS') : 'off',
      temporalAuth: config.temporal.apiKey ? 'api key' : 'none',
      database: redactUrl(config.databaseUrl),
      metrics: config.metrics ? metricsUrl(config.metrics) : 'off',
      dags: dags.map((d) => d.dag.dagId),
    },
    'worker ready',
  );
}

async function closeShared(shared: WorkerShared): Promise<void> {
  await shared.connection.close();
  await shared.client.connection.close();
  await shared.pool.end();
}

export async function createWorker(config: Config, logger: Logger, options: WorkerOptions = {}) {
  // Every DAG file loads and compiles, and its tasks' activities exist, or the worker does not start.
  const dags = loadDags(config.project.dagsDir, { isolateTypecheck: true });
  const shared = await connectShared(config, logger, options);
  const worker = await dagWorker(shared, dags, options.workflowBundle);
  if (!config.mail.smtpUrl) logger.warn('SMTP_URL is not set: alerts (email_on_failure, send_empty_alert) are written to this log instead of mailed');
  const announcement = announce(shared, () => dags);
  await announcement.now();
  logReady(shared, dags);
  const close = async () => {
    await announcement.stop();
    await closeShared(shared);
  };
  return { worker, close };
}

/**
 * Runs until SIGINT/SIGTERM (the SDK's default shutdown signals), then drains and closes. With
 * `config.watchDags` (development) it follows the DAGs folder instead (followDagsFolder).
 */
export async function runWorker(config: Config, logger: Logger, options: WorkerOptions = {}): Promise<void> {
  if (config.watchDags) return followDagsFolder(config, logger, options);
  const { worker, close } = await createWorker(config, logger, options);
  options.signal?.addEventListener('abort', () => worker.getState() === 'RUNNING' && worker.shutdown());
  try {
    if (config.workerReadyFile) await writeFile(config.workerReadyFile, `${process.pid}\n`);
    await worker.run();
  } finally {
    await close();
  }
}

/** Every file under `dir`, with its size and modification time: what a change to the folder changes. */
function folderFingerprint(dir: string): string {
  const lines: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(full);
      } else {
        const st = statSync(full, { throwIfNoEntry: false });
        if (st) lines.push(`${full}:${st.size}:${st.mtimeMs}`);
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return lines.join('\n');
}

/** The DAG files of the folder that validate, and the problems of those that do not, loaded afresh. */
function servableDags(config: Config): { dags: LoadedDag[]; problems: string[]; broken: string[] } {
  const { dags, broken } = loadValidDags(config.project.dagsDir, { fresh: true, isolateTypecheck: true });
  return { dags, problems: broken.map((b) => b.message), broken: broken.map((b) => b.file) };
}

/**
 * Development: serve the DAGs folder as it changes, as Airflow's DAG processor and `dagster dev`
 * do. Every second the folder is looked at; when a file was added, changed or removed, the files
 * that validate are served by a new Temporal worker (its workflows bundled afresh), the old one is
 * drained as a deploy drains it (running tasks finish), and a file that does not validate is
 * logged with its problems while the others go on being served. Their schedules are synced.
 */
async function followDagsFolder(config: Config, logger: Logger, options: WorkerOptions): Promise<void> {
  const shared = await connectShared(config, logger, options);
  const first = servableDags(config);
  let dags = first.dags;
  for (const problem of first.problems) logger.error({ problem }, 'a DAG file does not validate; the others are served');
  let worker = await dagWorker(shared, dags);
  let running = worker.run();
  const announcement = announce(shared, () => dags);
  await announcement.now();
  logReady(shared, dags);
  if (config.workerReadyFile) await writeFile(config.workerReadyFile, `${process.pid}\n`);
  let seen = folderFingerprint(config.project.dagsDir);
  let served = servedFingerprint(config.project.dagsDir, first.broken);
  let stopped = false;
  // The SDK's shutdown signals stop the worker; a reload's drain stops it too, and goes on.
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (signalled = true));
  options.signal?.addEventListener('abort', () => {
    signalled = true;
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  const onEnd = (run: Promise<void>) =>
    void run.then(
      () => (stopped = true),
      () => (stopped = true),
    );
  onEnd(running);
  try {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = folderFingerprint(config.project.dagsDir);
      if (now === seen || stopped) continue;
      seen = now;
      let next: { dags: LoadedDag[]; problems: string[]; broken: string[] };
      try {
        next = servableDags(config);
      } catch (err) {
        // A folder caught mid-change (a checkout), a broken tsconfig: looked at again on the next change.
        logger.error({ err: (err as Error).message }, 'the DAGs folder could not be read; the last version is served');
        continue;
      }
      for (const problem of next.problems) logger.error({ problem }, 'a DAG file does not validate; the others are served');
      // Any file the served DAGs may import counts (a helper beside them), not only their dag.ts.
      if (servedFingerprint(config.project.dagsDir, next.broken) === served) continue;
      try {
        // Bundled before the old worker stops, so the queue goes unpolled only while it drains.
        const { code } = await bundleWorkflowCode({
          workflowsPath: writeWorkflowsEntry(config.project.dagsDir, undefined, next.dags),
          ...workflowBundlerOptions,
          logger: new DefaultLogger('WARN'),
        });
        if (stopped) break;
        // A deploy's drain: the old worker finishes its running tasks (one worker per queue in a
        // process), then the new one takes the queue; running workflows carry on there.
        const old = running;
        worker.shutdown();
        await old.catch((err: Error) => logger.warn({ err: err.message }, 'the replaced worker stopped with an error'));
        // Stopped by the drain, not by a signal: go on (a SIGTERM meanwhile stops here).
        stopped = signalled;
        if (stopped) break;
        worker = await dagWorker(shared, next.dags, { code });
        running = worker.run();
        onEnd(running);
        dags = next.dags;
        served = servedFingerprint(config.project.dagsDir, next.broken);
        await announcement.now();
        logger.info({ dags: dags.map((d) => d.dag.dagId) }, 'DAGs folder changed: serving it again');
        const report = await syncSchedules(
          shared.client,
          dags.map((d) => ({ ...d.dag.definition, taskQueue: config.project.taskQueue })),
        );
        // A DAG scheduled on assets alone has none to sync.
        for (const [dagId, outcome] of Object.entries(report.outcomes))
          if (outcome !== 'unchanged' && outcome !== 'none') logger.info({ dagId, outcome }, 'schedule synced');
      } catch (err) {
        // Before the drain the last version goes on being served; after it there is nothing to serve with.
        if (worker.getState() !== 'RUNNING') throw err;
        logger.error({ err: (err as Error).message }, 'the changed DAGs folder could not be served; the last version is served');
      }
    }
    await running;
  } finally {
    await announcement.stop();
    await closeShared(shared);
  }
}

/**
 * What the served DAGs are made of: every file of the folder (a helper a DAG imports counts) but
 * those of DAG files that do not validate, so a broken file added reloads nothing.
 */
function servedFingerprint(dir: string, broken: readonly string[]): string {
  const left = (file: string) =>
    broken.some((b) =>
      path.basename(b) === 'dag.ts' ? file.startsWith(path.dirname(b) + path.sep) : file === b || file === b.replace(/\.ts$/, '.activities.ts'),
    );
  return folderFingerprint(dir)
    .split('\n')
    .filter((line) => !left(line.slice(0, line.indexOf(':'))))
    .join('\n');
}
