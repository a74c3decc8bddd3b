/**
 * `baton start` (and the first half of Baton's own `npm start`): the platform (the Temporal dev
 * server, Postgres), a worker serving the project's DAGs on its task queue, and one Temporal
 * Schedule per DAG. Safe to run again at any time: what runs is reused.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { connectClient } from './client';
import { loadConfig, loadServiceSettings, type Config } from './config';
import { loadCatalog, type Catalog } from './dag-catalog';
import { scheduleText } from './dags';
import { ConsoleProcess, startPlatform, withLock, workerDatabaseUrl, WorkerProcess, type Platform } from './platform';
import { syncSchedules } from './schedules';

export interface StartedProject {
  platform: Platform;
  config: Config;
  client: Client;
  catalog: Catalog;
  worker: WorkerProcess;
  /** The web console's address (`baton ui`, started beside the worker). */
  consoleUrl: string;
}

/** Starts everything the project needs; `workerEnv` adds to the worker's environment (connections). */
export async function startProject(say: (line: string) => void, workerEnv: (databaseUrl: string) => NodeJS.ProcessEnv = () => ({})): Promise<StartedProject> {
  const settings = loadServiceSettings();
  // A broken DAG file is named now, not at 03:00; the others are served.
  const catalog = loadCatalog(settings.project);
  for (const broken of catalog.broken) say(`${broken.message} (not served until it validates)`);
  const platform = await startPlatform(settings, say);
  // The worker connects on its own least-privilege role (activities/sql/worker-role.sql).
  const workerUrl = await workerDatabaseUrl(platform, 'baton', platform.databaseUrl, settings.project.dagsDir);
  // In development the worker follows the DAGs folder: a file added or changed is served once it validates.
  const env = { ...process.env, BATON_PROJECT_DIR: settings.project.dir, BATON_WATCH_DAGS: '1', DATABASE_URL: workerUrl, ...workerEnv(workerUrl) };
  const config = loadConfig(env);
  say(`Postgres ${settings.externalDatabaseUrl ? '(DATABASE_URL)' : `on 127.0.0.1:${settings.pgPort}`}, Temporal on ${config.temporal.address}`);
  const worker = new WorkerProcess(settings);
  const state = await withLock(path.join(settings.home, 'worker.lock'), 'a worker start', say, () => worker.ensure(env));
  say(
    `worker ${state} on task queue ${config.project.taskQueue}, serving ${path.relative(process.cwd(), config.project.dagsDir) || '.'} (log: ${path.relative(process.cwd(), worker.logFile)})`,
  );
  const client = await connectClient(config);
  const synced = await syncSchedules(client, catalog.dags);
  for (const dag of catalog.dags) {
    const outcome = synced.outcomes[dag.dagId];
    const paused = outcome === 'created' && dag.pausedOnCreation ? ` paused (\`baton unpause ${dag.dagId}\` starts it)` : '';
    say(`schedule ${dag.dagId} (${scheduleText(dag)} ${dag.timezone}): ${outcome}${paused}`);
  }
  for (const id of synced.removed) say(`schedule ${id} has no DAG in code any more; \`baton schedules sync --prune\` deletes it`);
  // The console gets the worker's connections too: it masks each of them wherever a page quotes an error.
  const { BATON_WATCH_DAGS: _watch, ...consoleEnv } = env;
  const { state: consoleState, url: consoleUrl } = await new ConsoleProcess(settings).ensure(consoleEnv);
  say(`console ${consoleState} on ${consoleUrl}`);
  return { platform, config, client, catalog, worker, consoleUrl };
}
