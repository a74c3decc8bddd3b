/**
 * Set-up and start-up of the local platform, shared by `npm start`, `npm test` and `npm stop`:
 * the project venv, the Postgres cluster (postgres.ts), the Temporal dev server (temporal.ts) and
 * the worker (worker.ts), each a background process whose files, pid and log live under `.baton/`.
 * Every step is idempotent: what runs is reused, what died is restarted, and a stop ends only what
 * these functions started.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'pg';
import { migrateWarehouse } from '../../activities/warehouse';
import { localDatabaseUrlFile, projectRoot, type ServiceSettings } from '../config';
import { LocalPostgres } from './postgres';
import { run, withLock, type Report } from './processes';
import { LocalTemporal } from './temporal';
import { ConsoleProcess } from './console';
import { WorkerProcess } from './worker';

/** The project venv: pinned Temporal CLI, Temporal test server and dbt. Reinstalled only when the pins change. */
export async function ensurePythonTools(settings: ServiceSettings, report: Report): Promise<void> {
  const venv = settings.venv;
  const requirements = path.join(projectRoot, 'scripts', 'requirements.txt');
  const want = createHash('sha256')
    .update(await readFile(requirements))
    .digest('hex');
  const marker = path.join(venv, '.baton-requirements');
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === want) return;
  report(`installing the Temporal CLI, the Temporal test server and dbt into ${path.relative(process.cwd(), venv)} (pinned)`);
  await mkdir(settings.home, { recursive: true });
  if (!existsSync(path.join(venv, 'bin', 'python'))) await run('python3', ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', '-r', requirements]);
  await writeFile(marker, want);
}

export interface Platform {
  databaseUrl: string;
  postgres?: LocalPostgres;
  temporal: LocalTemporal;
  /** What this call started (and so what its caller may stop). */
  started: string[];
}

export async function startPlatform(settings: ServiceSettings, report: Report, namespaces: string[] = []): Promise<Platform> {
  // Two set-ups at once (two `npm start`, or one with `npm test`) start one of each service.
  return withLock(path.join(settings.home, 'platform.lock'), 'a set-up', report, () => setUpPlatform(settings, report, namespaces));
}

async function setUpPlatform(settings: ServiceSettings, report: Report, namespaces: string[]): Promise<Platform> {
  await ensurePythonTools(settings, report);
  const started: string[] = [];
  let databaseUrl = settings.externalDatabaseUrl;
  let postgres: LocalPostgres | undefined;
  if (!databaseUrl) {
    postgres = new LocalPostgres(settings);
    if ((await postgres.ensure(report)) === 'started') started.push('postgres');
    databaseUrl = (await readFile(localDatabaseUrlFile(settings.home), 'utf8')).trim();
  }
  const temporal = new LocalTemporal(settings);
  if ((await temporal.ensure(report, namespaces)) === 'started') started.push('temporal');
  return { databaseUrl, postgres, temporal, started };
}

/**
 * A corner of the platform of its own, for the tests and the benchmarks: a Temporal namespace
 * (registered by startPlatform), a database on the local cluster and a data folder, and the
 * environment that points workers, tools and the CLI at them; `npm start`'s runs are never touched.
 */
export async function isolatedEnv(
  settings: ServiceSettings,
  platform: Platform,
  { namespace, database, dataFolder }: { namespace: string; database: string; dataFolder: string },
): Promise<NodeJS.ProcessEnv> {
  let databaseUrl = platform.databaseUrl;
  if (platform.postgres) {
    await platform.postgres.ensureDatabase(database);
    databaseUrl = platform.postgres.url(database, await platform.postgres.password());
  }
  const dataDir = path.join(settings.home, dataFolder);
  await mkdir(dataDir, { recursive: true });
  return {
    ...process.env,
    DATABASE_URL: databaseUrl,
    // The sample DAGs' source connection (conn_id postgres_prod): the warehouse's database unless set.
    BATON_CONN_POSTGRES_PROD: databaseUrl,
    TEMPORAL_ADDRESS: settings.temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    BATON_DATA_DIR: dataDir,
    BATON_DBT_TARGET: 'dev',
    BATON_VENV: settings.venv,
  };
}

/**
 * The URL workers use for `database`: on the local cluster, the least-privilege `baton_worker`
 * role (the warehouse migrated first, as its owner); with DATABASE_URL of your own, that URL
 * (see activities/sql/worker-role.sql to give your worker a role of its own).
 */
export async function workerDatabaseUrl(platform: Platform, database: string, ownerUrl: string, dagsDir?: string): Promise<string> {
  if (!platform.postgres) return ownerUrl;
  const pool = new Pool({ connectionString: ownerUrl, max: 1 });
  try {
    // Baton's tables and each DAG folder's setup.sql, as the owner: the worker's role may not.
    await migrateWarehouse(pool, dagsDir);
  } finally {
    await pool.end();
  }
  return platform.postgres.workerAccess(database);
}

/** Stops what this startPlatform call started, and nothing else. */
export async function stopStarted(platform: Platform, report: Report): Promise<void> {
  if (platform.started.includes('temporal')) await platform.temporal.stop(report);
  if (platform.started.includes('postgres')) await platform.postgres?.stop(report);
}

/** Stops the console, the worker, the Temporal dev server and the Postgres cluster that `npm start` started. */
export async function stopPlatform(settings: ServiceSettings, report: Report): Promise<void> {
  await new ConsoleProcess(settings).stop(report);
  await new WorkerProcess(settings).stop(report);
  await new LocalTemporal(settings).stop(report);
  if (!settings.externalDatabaseUrl) await new LocalPostgres(settings).stop(report);
}

export { LocalPostgres } from './postgres';
export { isAlive, livePid, processStartTime, run, sleep, withLock, type Report } from './processes';
export { LocalTemporal } from './temporal';
export { WorkerProcess } from './worker';
export { ConsoleProcess } from './console';
