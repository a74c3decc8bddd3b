import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** Set by src/build.ts in the compiled worker, which runs from a build folder anywhere. */
declare const BATON_COMPILED_FROM: string | undefined;

/**
 * Baton's own root: its code, its `dbt/` project and SQL. In Baton's checkout it is also the
 * project (a team's DAGs and `.baton/` live in the project: `Project`).
 */
export const projectRoot = typeof BATON_COMPILED_FROM === 'string' ? BATON_COMPILED_FROM : path.resolve(__dirname, '..');

/** The project's settings file: where its DAGs are and the task queue its worker polls. */
export const PROJECT_FILE = 'baton.config.json';

const ProjectFileSchema = z
  .object({
    /** The DAGs folder, relative to the project: `dags` by default. */
    dags: z
      .string()
      .min(1)
      .refine((p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), 'a folder inside the project (relative, without ..)')
      .default('dags'),
    /** The task queue this project's worker polls and its runs are started on: `etl` by default. */
    taskQueue: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'letters, digits, . _ and -')
      .default('etl'),
  })
  .strict();

/** A team's project (or Baton's checkout): its folder, its DAGs folder and its worker's task queue. */
export interface Project {
  dir: string;
  dagsDir: string;
  taskQueue: string;
}

/**
 * The project Baton works on: BATON_PROJECT_DIR, else the nearest folder from `cwd` up that has a
 * baton.config.json, else Baton's checkout when `cwd` is in it, else `cwd`. BATON_DAGS_DIR and
 * BATON_TASK_QUEUE override the file.
 */
export function loadProject(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Project {
  const dir = env.BATON_PROJECT_DIR ? path.resolve(env.BATON_PROJECT_DIR) : findProjectDir(cwd);
  const file = path.join(dir, PROJECT_FILE);
  let settings: z.infer<typeof ProjectFileSchema> = ProjectFileSchema.parse({});
  if (existsSync(file)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${file}: not JSON (${(err as Error).message})`);
    }
    const parsed = ProjectFileSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ')}`);
    settings = parsed.data;
  }
  const taskQueue = env.BATON_TASK_QUEUE ?? settings.taskQueue;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(taskQueue)) throw new ConfigError(`invalid environment: BATON_TASK_QUEUE: letters, digits, . _ and -`);
  return { dir, dagsDir: path.resolve(dir, env.BATON_DAGS_DIR ?? settings.dags), taskQueue };
}

function findProjectDir(cwd: string): string {
  for (let at = path.resolve(cwd); ; at = path.dirname(at)) {
    if (existsSync(path.join(at, PROJECT_FILE))) return at;
    if (path.dirname(at) === at) break;
  }
  const inBaton = path.resolve(cwd) === projectRoot || path.resolve(cwd).startsWith(projectRoot + path.sep);
  return inBaton ? projectRoot : path.resolve(cwd);
}

const duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as 500ms, 30s, 5m or 1h');

/** The worker's Prometheus port: 1024-65535, or `off` (or 0) to serve no metrics. */
const metricsPort = z
  .string()
  .regex(/^(off|\d+)$/, 'a port from 1024 to 65535, or off')
  .transform((v) => (v === 'off' ? 0 : Number(v)))
  .refine((port) => port === 0 || (port >= 1024 && port <= 65535), 'a port from 1024 to 65535, or off');

/** The variables both the worker's config and the local set-up read, declared once. */
const SharedEnv = {
  DATABASE_URL: z.string().url('a postgres:// URL').optional(),
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  BATON_DATA_DIR: z.string().min(1).optional(),
  BATON_HOME: z.string().min(1).optional(),
  BATON_VENV: z.string().min(1).optional(),
  BATON_UI_PORT: z.coerce.number().int().min(1024).max(65535).default(8233),
};

const EnvSchema = z.object({
  ...SharedEnv,
  BATON_DBT_BIN: z.string().min(1).optional(),
  BATON_DBT_PROJECT_DIR: z.string().min(1).optional(),
  BATON_DBT_TARGET: z.enum(['dev', 'prod']).default('prod'),
  BATON_RETRY_DELAY: duration.optional(),
  BATON_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(100).optional(),
  BATON_DEPENDS_ON_PAST_POLL: duration.optional(),
  BATON_SLOT_REFRESH: duration.optional(),
  BATON_SENSOR_POKE_INTERVAL: duration.optional(),
  BATON_SENSOR_TIMEOUT: duration.optional(),
  BATON_FILE_SETTLE: duration.optional(),
  BATON_HEARTBEAT_TIMEOUT: duration.optional(),
  BATON_WEB_UI: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BATON_WORKER_READY_FILE: z.string().min(1).optional(),
  BATON_WATCH_DAGS: z.enum(['0', '1']).default('0'),
  BATON_METRICS_PORT: metricsPort.default(9464),
  BATON_METRICS_HOST: z
    .string()
    .refine((host) => isIP(host) !== 0, 'an IP address such as 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL')
    .optional(),
  BATON_MAIL_FROM: z.string().email().default('baton@localhost'),
  // Temporal Cloud or a secured cluster: the Temporal CLI's own variables, so one environment
  // serves `temporal workflow start` and Baton alike.
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
});

/** How Baton reaches Temporal over TLS; files are read when connecting. */
export interface TemporalTls {
  /** mTLS: the client certificate and its key (PEM files), both or neither. */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** The CA that signed the server's certificate, when it is not a public one. */
  serverCaCertPath?: string;
  /** The name to check the server's certificate against, when it is not the address's host. */
  serverName?: string;
}

/**
 * TLS is on when TEMPORAL_TLS=true, when any TLS file or name is given, or with an API key
 * (Temporal Cloud takes API keys over TLS only); TEMPORAL_TLS=false turns it off outright.
 */
function temporalSecurity(e: z.infer<typeof EnvSchema>): { tls?: TemporalTls; apiKey?: string } {
  const paths = { clientCertPath: e.TEMPORAL_TLS_CLIENT_CERT_PATH, clientKeyPath: e.TEMPORAL_TLS_CLIENT_KEY_PATH };
  if (Boolean(paths.clientCertPath) !== Boolean(paths.clientKeyPath)) {
    throw new ConfigError(
      'invalid environment: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together (mTLS needs the certificate and its key)',
    );
  }
  const tls: TemporalTls = {
    ...(paths.clientCertPath ? { clientCertPath: path.resolve(paths.clientCertPath), clientKeyPath: path.resolve(paths.clientKeyPath!) } : {}),
    ...(e.TEMPORAL_TLS_SERVER_CA_CERT_PATH ? { serverCaCertPath: path.resolve(e.TEMPORAL_TLS_SERVER_CA_CERT_PATH) } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
  for (const [name, file] of [
    ['TEMPORAL_TLS_CLIENT_CERT_PATH', tls.clientCertPath],
    ['TEMPORAL_TLS_CLIENT_KEY_PATH', tls.clientKeyPath],
    ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', tls.serverCaCertPath],
  ] as const) {
    if (file && !existsSync(file)) throw new ConfigError(`invalid environment: ${name}: no such file ${file}`);
  }
  const on = e.TEMPORAL_TLS === 'true' || (e.TEMPORAL_TLS !== 'false' && (Object.keys(tls).length > 0 || e.TEMPORAL_API_KEY !== undefined));
  if (!on && Object.keys(tls).length > 0) {
    throw new ConfigError('invalid environment: TEMPORAL_TLS=false, but TLS files or a server name are set');
  }
  return { ...(on ? { tls } : {}), ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}) };
}

export interface RetryOverride {
  /** Replaces the DAG's retry_delay (Temporal duration string, e.g. "1s"). */
  retryDelay?: string;
  /** Replaces the DAG's retries + 1. */
  maximumAttempts?: number;
}

export interface Config {
  databaseUrl: string;
  /** `apiKey` is a secret. Without `tls`, the connection is plain (a local dev server). */
  temporal: { address: string; namespace: string; tls?: TemporalTls; apiKey?: string };
  /** The project whose DAGs this process serves, and its task queue. */
  project: Project;
  dataDir: string;
  home: string;
  /** dbt: its executable, the folder of Baton's profile (profiles.yml: the warehouse) for a DAG's project without one, the target. */
  dbt: { bin: string; projectDir: string; target: 'dev' | 'prod' };
  retry: RetryOverride;
  /** How often a depends_on_past run looks at the previous run. */
  dependsOnPastPoll?: string;
  /** How often a run waiting for a pool slot sends its request again (5m by default). */
  slotRefresh?: string;
  /** Overrides of every sensor's poke_interval and timeout, and of file settle times (tests, local runs). */
  sensors: { pokeInterval?: string; timeout?: string; fileSettle?: string };
  /** Overrides the data tasks' heartbeat timeout (30 s): how long a dead worker holds a task. */
  heartbeatTimeout?: string;
  webUiUrl: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** Airflow's connections: `BATON_CONN_<ID>` URLs by lower-case conn_id (e.g. postgres_prod). Secrets. */
  connections: Record<string, string>;
  /** Where alerts are mailed; without it they are logged. A secret: it may hold a password. */
  mail: { smtpUrl?: string; from: string };
  /** Set by `npm start`: the worker writes its pid here once it polls, whatever the log level. */
  workerReadyFile?: string;
  /** Development (`npm start`, `baton start`): the worker follows the DAGs folder, serving each change that validates. */
  watchDags: boolean;
  /** Where the worker serves Prometheus metrics (`/metrics`); undefined when turned off. */
  metrics?: { host: string; port: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Where the local Postgres cluster made by `npm start` writes its connection URL. */
export function localDatabaseUrlFile(home: string): string {
  return path.join(home, 'postgres', 'database-url');
}

/** Validates the environment against a schema; a problem names the variable and what was expected. */
function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The project's `.baton/` (BATON_HOME), the venv in it (BATON_VENV) and its data directory (BATON_DATA_DIR, `data/`). */
function homeAndVenv(e: { BATON_HOME?: string; BATON_VENV?: string; BATON_DATA_DIR?: string }, project: Project) {
  const home = path.resolve(e.BATON_HOME ?? path.join(project.dir, '.baton'));
  return { home, venv: path.resolve(e.BATON_VENV ?? path.join(home, 'venv')), dataDir: path.resolve(e.BATON_DATA_DIR ?? path.join(project.dir, 'data')) };
}

/**
 * Reads and validates the environment once. The only reader of `process.env` in Baton.
 * Without DATABASE_URL, the local cluster that `npm start` created is used.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(EnvSchema, env);
  const project = loadProject(env);
  const { home, venv, dataDir } = homeAndVenv(e, project);
  let databaseUrl = e.DATABASE_URL;
  if (!databaseUrl) {
    const file = localDatabaseUrlFile(home);
    if (!existsSync(file)) {
      throw new ConfigError(`DATABASE_URL is not set and there is no local Postgres cluster (${file}); run \`npm start\` or set DATABASE_URL`);
    }
    databaseUrl = readFileSync(file, 'utf8').trim();
  }
  return {
    databaseUrl,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      ...temporalSecurity(e),
    },
    project,
    dataDir,
    home,
    dbt: {
      bin: e.BATON_DBT_BIN ?? path.join(venv, 'bin', 'dbt'),
      projectDir: path.resolve(e.BATON_DBT_PROJECT_DIR ?? path.join(projectRoot, 'dbt')),
      target: e.BATON_DBT_TARGET,
    },
    retry: { retryDelay: e.BATON_RETRY_DELAY, maximumAttempts: e.BATON_RETRY_ATTEMPTS },
    dependsOnPastPoll: e.BATON_DEPENDS_ON_PAST_POLL,
    slotRefresh: e.BATON_SLOT_REFRESH,
    sensors: { pokeInterval: e.BATON_SENSOR_POKE_INTERVAL, timeout: e.BATON_SENSOR_TIMEOUT, fileSettle: e.BATON_FILE_SETTLE },
    heartbeatTimeout: e.BATON_HEARTBEAT_TIMEOUT,
    webUiUrl: (e.BATON_WEB_UI ?? `http://localhost:${e.BATON_UI_PORT}`).replace(/\/$/, ''),
    logLevel: e.LOG_LEVEL,
    workerReadyFile: e.BATON_WORKER_READY_FILE,
    watchDags: e.BATON_WATCH_DAGS === '1',
    metrics: e.BATON_METRICS_PORT === 0 ? undefined : { host: e.BATON_METRICS_HOST, port: e.BATON_METRICS_PORT },
    mail: { smtpUrl: e.SMTP_URL, from: e.BATON_MAIL_FROM },
    connections: Object.fromEntries(
      Object.entries(env)
        .filter(([key, value]) => /^BATON_CONN_[A-Z0-9_]+$/.test(key) && value)
        .map(([key, value]) => [key.slice('BATON_CONN_'.length).toLowerCase(), value as string]),
    ),
  };
}

/** The URL with its password masked, for log lines and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

const ServiceEnvSchema = z.object({
  ...SharedEnv,
  BATON_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
});

/** What the local set-up needs: valid before any database exists. */
export interface ServiceSettings {
  project: Project;
  home: string;
  /** The project venv with the Temporal CLI, the test server and dbt. */
  venv: string;
  dataDir: string;
  /** DATABASE_URL when the user brings a database; then no local cluster is made. */
  externalDatabaseUrl?: string;
  pgPort: number;
  temporalAddress: string;
  namespace: string;
  uiPort: number;
}

export function loadServiceSettings(env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const e = parseEnv(ServiceEnvSchema, env);
  const project = loadProject(env);
  return {
    ...homeAndVenv(e, project),
    project,
    externalDatabaseUrl: e.DATABASE_URL,
    pgPort: e.BATON_PG_PORT,
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    uiPort: e.BATON_UI_PORT,
  };
}
