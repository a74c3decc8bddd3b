/**
 * The worker process: connects to Temporal and Postgres once, makes sure the warehouse
 * schema exists, and runs Baton's workflows and activities on the `etl` task queue.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NativeConnection, Worker, type BundleOptions } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../activities';
import { createConnections } from '../activities/connections';
import type { WorkerClients } from '../activities/operators/contracts';
import { migrateWarehouse } from '../activities/postgres';
import { connectClient, temporalConnectionOptions } from './client';
import { projectRoot, redactUrl, type Config } from './config';
import { loadDags, loadUserActivities, writeWorkflowsEntry, type LoadedDag } from './dag-files';
import { installRuntimeLogger, metricsUrl, type Logger } from './logging';

/**
 * How `workflows/` is bundled, everywhere a bundle is made (worker, replay tests). Installed from
 * npm, Baton's workflows are TypeScript under node_modules/baton, which the bundler's loader
 * would leave out as a package's: the loader takes every .ts file outside other packages.
 */
export const workflowBundlerOptions: Pick<BundleOptions, 'webpackConfigHook'> = {
  webpackConfigHook: (config) => {
    for (const rule of config.module?.rules ?? []) {
      if (rule && typeof rule === 'object' && rule.test instanceof RegExp && rule.test.source === '\\.ts$') rule.exclude = isOtherPackage;
    }
    return config;
  },
};

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
  /** Activities besides Baton's and the DAG files' (the benchmarks' own instruments), made with the worker's clients and DAG files. */
  activities?: (clients: WorkerClients, dags: readonly LoadedDag[]) => Record<string, (input: never) => Promise<unknown>>;
}

export async function createWorker(config: Config, logger: Logger, options: WorkerOptions = {}) {
  installRuntimeLogger(logger, config.metrics);
  // Every DAG file loads and compiles, and its tasks' activities exist, or the worker does not start.
  const dags = loadDags(config.project.dagsDir);
  const pool = new Pool({ connectionString: config.databaseUrl, max: 10, application_name: 'baton-worker' });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle Postgres connection failed'));
  const poolFor = createConnections(pool, config.connections);
  await migrateWarehouse(pool);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const client = await connectClient(config);
  const activities = createActivities({ pool, poolFor, logger, config, client, dags });
  // A DAG's own tasks get the same clients, and Baton's activities to build on.
  const context: WorkerClients = { pool, connection: poolFor, config, logger, activities };
  const userActivities = Object.assign({}, ...dags.map((d) => loadUserActivities(d, context)));
  const slots = options.maxConcurrentActivityTaskExecutions ?? 10;
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.project.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: workflowsEntry(config.project.dagsDir), bundlerOptions: workflowBundlerOptions }),
    activities: { ...activities, ...userActivities, ...options.activities?.(context, dags) },
    maxConcurrentActivityTaskExecutions: slots,
    // Fewer pollers than slots, so a slot is free when a workflow task schedules the next
    // activity and the worker takes it at once instead of a round trip through the queue.
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: Math.max(1, Math.min(5, slots - 2)) },
  });
  if (!config.mail.smtpUrl) logger.warn('SMTP_URL is not set: alerts (email_on_failure, send_empty_alert) are written to this log instead of mailed');
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
  const close = async () => {
    await connection.close();
    await client.connection.close();
    await pool.end();
  };
  return { worker, close };
}

/** Runs until SIGINT/SIGTERM (the SDK's default shutdown signals), then drains and closes. */
export async function runWorker(config: Config, logger: Logger, options: WorkerOptions = {}): Promise<void> {
  const { worker, close } = await createWorker(config, logger, options);
  try {
    if (config.workerReadyFile) await writeFile(config.workerReadyFile, `${process.pid}\n`);
    await worker.run();
  } finally {
    await close();
  }
}
