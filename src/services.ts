/**
 * The local platform `npm start` runs: a private Postgres cluster, the Temporal dev server
 * (with its Web UI) and the worker, each a background process whose files, pid and log live
 * under `.baton/`. Every step is idempotent: what runs is reused, what died is restarted,
 * and `stop` ends only what these functions started.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { localDatabaseUrlFile, projectRoot, type ServiceSettings } from './config';
import { SearchAttributeNames } from './contracts';

const execFileAsync = promisify(execFile);

export type Report = (line: string) => void;

/** Runs a command with an argument array; a failure carries the command's own stderr. */
export async function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}) {
  if (options.input !== undefined) {
    return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(cmd, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${path.basename(cmd)} ${args[0] ?? ''} exited ${code}: ${stderr.trim() || stdout.trim()}`)),
      );
      child.stdin.end(options.input);
    });
  }
  try {
    return await execFileAsync(cmd, args, { env: options.env, cwd: options.cwd, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${path.basename(cmd)} ${args[0] ?? ''} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

/** Whether `pid` is a running process (a zombie waiting to be reaped counts as ended). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat): with the
 * pid, it names one process for good; a pid reused after a reboot or a wrap has another.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
  } catch {
    return undefined;
  }
}

/** The first number in a pid file (Baton's `<pid> <start time>`, Postgres' postmaster.pid). */
async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pid in `file` if that process is alive and is still the one we started: same pid, same
 * start time (pid files from before start times were recorded: same command line).
 */
export async function livePid(file: string, marker: string): Promise<number | undefined> {
  let recorded: string[];
  try {
    recorded = (await readFile(file, 'utf8')).trim().split(/\s+/);
  } catch {
    return undefined;
  }
  const pid = Number(recorded[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (recorded[1] !== undefined) return processStartTime(pid) === recorded[1] ? pid : undefined;
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    return cmdline.includes(marker) ? pid : undefined;
  } catch {
    return pid; // no /proc: trust the pid file
  }
}

/**
 * One at a time: a lock file naming its holder by pid and start time. A second caller waits
 * until the first is done (then finds what it started running); a lock whose holder is gone
 * (killed, a reboot) is taken over.
 */
export async function withLock<T>(file: string, what: string, report: Report, work: () => Promise<T>, timeoutMs = 20 * 60_000): Promise<T> {
  await mkdir(path.dirname(file), { recursive: true });
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''}\n`;
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      await writeFile(file, me, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await readFile(file, 'utf8').catch(() => '');
    const holder = await livePid(file, '');
    if (holder === undefined) {
      // Stale: remove it unless another caller has taken it over meanwhile.
      if ((await readFile(file, 'utf8').catch(() => '')) === seen) await rm(file, { force: true });
      continue;
    }
    if (!told) report(`waiting for ${what} under way in process ${holder}`);
    told = true;
    if (Date.now() > deadline) throw new Error(`${what} in process ${holder} has held ${file} for ${timeoutMs / 60_000} minutes`);
    await sleep(300);
  }
  try {
    return await work();
  } finally {
    await rm(file, { force: true });
  }
}

/** Starts a process that outlives this one, its output appended to `logFile`. */
async function spawnDetached(cmd: string, args: string[], opts: { logFile: string; pidFile: string; env: NodeJS.ProcessEnv; cwd?: string }) {
  await mkdir(path.dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: opts.env, cwd: opts.cwd ?? projectRoot });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    await writeFile(opts.pidFile, `${child.pid} ${processStartTime(child.pid!) ?? ''}\n`);
    return child.pid!;
  } finally {
    closeSync(fd);
  }
}

async function stopPid(pid: number, timeoutMs = 15_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  const tail = logFile && existsSync(logFile) ? `\n--- last lines of ${logFile} ---\n${(await readFile(logFile, 'utf8')).split('\n').slice(-20).join('\n')}` : '';
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s${tail}`);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

// ---- Postgres ---------------------------------------------------------------------------

/**
 * A role's password, generated once and kept in `file` (0600). It goes into SQL text on psql's
 * stdin (ALTER ROLE takes no parameters), so only what Baton generated is accepted.
 */
async function generatedPassword(file: string): Promise<string> {
  let password = existsSync(file) ? (await readFile(file, 'utf8')).trim() : '';
  if (!password) {
    password = randomBytes(18).toString('hex');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
  }
  if (!/^[0-9a-f]{36}$/.test(password)) throw new Error(`${file} does not hold a password Baton generated (36 hex digits); remove it to make a new one`);
  return password;
}

export class LocalPostgres {
  /** Baton's own files about the cluster: password and connection URL (readable by this user only). */
  readonly dir: string;
  /** The cluster itself, owned by the postgres user. */
  readonly clusterDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;

  constructor(private readonly settings: ServiceSettings) {
    this.dir = path.join(settings.home, 'postgres');
    this.clusterDir = postgresCanReach(settings.home)
      ? this.dir
      : // initdb refuses root, and the postgres user cannot pass a private parent folder (a
        // home directory, a mkdtemp folder): the cluster then lives in a folder of its own.
        path.join('/var/tmp', `baton-postgres-${createHash('sha256').update(settings.home).digest('hex').slice(0, 12)}`);
    this.dataDir = path.join(this.clusterDir, 'data');
    this.socketDir = path.join(this.clusterDir, 'run');
    this.logFile = path.join(this.clusterDir, 'log', 'postgres.log');
  }

  /** Debian's Postgres 15 binaries; installed from Debian's packages when missing. */
  async binDir(report: Report): Promise<string> {
    const found = findPostgresBin();
    if (found) return found;
    if (!isRoot()) throw new Error('Postgres 15 is not installed: run `apt-get install postgresql-15` or set DATABASE_URL');
    report('installing Postgres 15 from Debian packages');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql-15'], { env });
    const installed = findPostgresBin();
    if (!installed) throw new Error('apt-get installed postgresql-15 but no initdb was found under /usr/lib/postgresql');
    return installed;
  }

  /** Runs a Postgres server binary as the cluster's owner (initdb refuses root). */
  private async asOwner(bin: string, args: string[]) {
    return isRoot() ? run('runuser', ['-u', 'postgres', '--', bin, ...args]) : run(bin, args);
  }

  async isRunning(bin: string): Promise<boolean> {
    if (!existsSync(path.join(this.dataDir, 'PG_VERSION'))) return false;
    try {
      await this.asOwner(path.join(bin, 'pg_ctl'), ['status', '-D', this.dataDir]);
      return true;
    } catch {
      return false;
    }
  }

  async ensure(report: Report): Promise<'started' | 'running'> {
    const bin = await this.binDir(report);
    if (!existsSync(path.join(this.dataDir, 'PG_VERSION'))) await this.init(bin, report);
    if (await this.isRunning(bin)) return 'running';
    await rm(path.join(this.dataDir, 'postmaster.pid'), { force: true }).catch(() => undefined);
    await mkdir(path.dirname(this.logFile), { recursive: true });
    if (isRoot()) await chown(path.dirname(this.logFile), ...(await postgresIds()));
    await this.asOwner(path.join(bin, 'pg_ctl'), ['start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60']).catch(async (err: Error) => {
      const log = existsSync(this.logFile) ? (await readFile(this.logFile, 'utf8')).trim().split('\n').slice(-4).join('\n') : '';
      const hint = /already in use/.test(log) ? `\nport ${this.settings.pgPort} is taken: stop what uses it or set BATON_PG_PORT` : '';
      throw new Error(`${err.message}\n${log}${hint}`);
    });
    await this.ensureRole();
    return 'started';
  }

  private async init(bin: string, report: Report): Promise<void> {
    report(`creating a Postgres cluster in ${this.dataDir}`);
    await rm(this.dataDir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true }); // the password files in it are 0600 themselves
    await mkdir(this.dataDir, { recursive: true });
    await mkdir(this.socketDir, { recursive: true });
    if (isRoot()) {
      const owner = await postgresIds();
      for (const dir of [this.dataDir, this.socketDir]) await chown(dir, ...owner);
      if (this.clusterDir !== this.dir) await chown(this.clusterDir, ...owner);
      await run('runuser', ['-u', 'postgres', '--', 'test', '-w', this.dataDir]).catch(() => {
        throw new Error(`the postgres user cannot write ${this.dataDir}; set BATON_HOME to a folder it can reach`);
      });
    }
    await chmod(this.dataDir, 0o700);
    await chmod(this.socketDir, 0o700);
    await this.asOwner(path.join(bin, 'initdb'), ['-D', this.dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
    // Private port and socket folder: never collides with a system cluster.
    const conf = [
      `port = ${this.settings.pgPort}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${this.socketDir}'`,
      'unix_socket_permissions = 0700',
      'max_connections = 100',
      'shared_buffers = 256MB',
      'max_wal_size = 2GB',
    ].join('\n');
    await writeFile(path.join(this.dataDir, 'postgresql.auto.conf'), `${conf}\n`);
    if (isRoot()) await chown(path.join(this.dataDir, 'postgresql.auto.conf'), ...(await postgresIds()));
  }

  /** psql as the cluster superuser over the private socket; `vars` are psql variables (`:"name"` in the SQL). */
  async admin(sql: string, database = 'postgres', vars: Record<string, string> = {}): Promise<string> {
    const bin = findPostgresBin() ?? '/usr/bin';
    const variables = Object.entries(vars).flatMap(([name, value]) => ['-v', `${name}=${value}`]);
    const { stdout } = await run(path.join(bin, 'psql'), ['-h', this.socketDir, '-p', String(this.settings.pgPort), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', ...variables, '-qAtX', '-f', '-'], { input: sql });
    return stdout.trim();
  }

  /** The `baton` role and database, with a generated password kept in `.baton/postgres/`. */
  async ensureRole(): Promise<void> {
    const password = await generatedPassword(path.join(this.dir, 'password'));
    await this.admin(
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'baton') THEN CREATE ROLE baton LOGIN; END IF;
       END $$;
       ALTER ROLE baton WITH LOGIN PASSWORD '${password}';`,
    );
    await this.ensureDatabase('baton');
    await writeFile(localDatabaseUrlFile(this.settings.home), `${this.url('baton', password)}\n`, { mode: 0o600 });
  }

  async ensureDatabase(name: string): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid database name ${name}`);
    const exists = await this.admin(`SELECT 1 FROM pg_database WHERE datname = '${name}'`);
    if (exists !== '1') await this.admin(`CREATE DATABASE ${name} OWNER baton`);
  }

  url(database: string, password: string, user = 'baton'): string {
    return `postgres://${user}:${password}@127.0.0.1:${this.settings.pgPort}/${database}`;
  }

  /**
   * The worker's least-privilege role `baton_worker` (activities/sql/worker-role.sql) in
   * `database`, which must be migrated already; returns the worker's URL. Idempotent.
   */
  async workerAccess(database: string): Promise<string> {
    if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`invalid database name ${database}`);
    const password = await generatedPassword(path.join(this.dir, 'worker-password'));
    await this.admin(
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'baton_worker') THEN CREATE ROLE baton_worker; END IF;
       END $$;
       ALTER ROLE baton_worker WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${password}';`,
    );
    const script = await readFile(path.join(projectRoot, 'activities', 'sql', 'worker-role.sql'), 'utf8');
    await this.admin(script, database, { worker: 'baton_worker', owner: 'baton', db: database });
    return this.url(database, password, 'baton_worker');
  }

  async password(): Promise<string> {
    return (await readFile(path.join(this.dir, 'password'), 'utf8')).trim();
  }

  async stop(report: Report): Promise<void> {
    const bin = findPostgresBin();
    if (!bin || !(await this.isRunning(bin))) return;
    const postmaster = await readPid(path.join(this.dataDir, 'postmaster.pid'));
    await this.asOwner(path.join(bin, 'pg_ctl'), ['stop', '-D', this.dataDir, '-m', 'fast', '-w']);
    // pg_ctl returns once the pid file is gone, a moment before the postmaster has exited.
    const deadline = Date.now() + 10_000;
    while (postmaster && isAlive(postmaster) && Date.now() < deadline) await sleep(50);
    report('stopped Postgres');
  }
}

/** Whether the postgres user can pass through every folder down to `dir` (always true when not root). */
function postgresCanReach(dir: string): boolean {
  if (!isRoot()) return true;
  let existing = path.resolve(dir);
  while (!existsSync(existing)) existing = path.dirname(existing);
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', existing], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')));
  const preferred = versions.includes('15') ? '15' : versions.sort((a, b) => Number(b) - Number(a))[0];
  return preferred ? path.join(root, preferred, 'bin') : undefined;
}

async function postgresIds(): Promise<[number, number]> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return [Number(uid.trim()), Number(gid.trim())];
}

// ---- Chromium (browser tests of the Web UI) ------------------------------------------------

/** Debian's Chromium: the browser tests drive it with playwright-core, which downloads none. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Debian's Chromium, installed from Debian's packages when missing; returns its path. */
export async function ensureChromium(report: Report): Promise<string> {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (!isRoot()) throw new Error(`Chromium is not installed (${CHROMIUM_PATH}), and the Web UI tests need it: run \`apt-get install chromium\` as root`);
  report('installing Chromium from Debian packages (for the Web UI tests)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env });
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but there is no ${CHROMIUM_PATH}`);
  return CHROMIUM_PATH;
}

// ---- Temporal dev server -------------------------------------------------------------------

export const SEARCH_ATTRIBUTES = {
  [SearchAttributeNames.dag]: 'Keyword',
  [SearchAttributeNames.ds]: 'Keyword',
  [SearchAttributeNames.tags]: 'KeywordList',
  [SearchAttributeNames.pools]: 'KeywordList',
  [SearchAttributeNames.slots]: 'KeywordList',
} as const;

export class LocalTemporal {
  readonly dir: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly dbFile: string;

  constructor(private readonly settings: ServiceSettings) {
    this.dir = path.join(settings.home, 'temporal');
    this.pidFile = path.join(this.dir, 'server.pid');
    this.logFile = path.join(this.dir, 'server.log');
    this.dbFile = path.join(this.dir, 'temporal.db');
  }

  get bin(): string {
    return path.join(this.settings.venv, 'bin', 'temporal');
  }

  get isLocalAddress(): boolean {
    return /^(localhost|127\.0\.0\.1):\d+$/.test(this.settings.temporalAddress);
  }

  async reachable(): Promise<boolean> {
    try {
      const connection = await Connection.connect({ address: this.settings.temporalAddress, connectTimeout: '1s' });
      try {
        await connection.workflowService.getSystemInfo({});
        return true;
      } finally {
        await connection.close();
      }
    } catch {
      return false;
    }
  }

  /** Reuses a reachable server; otherwise starts the dev server on its persistent SQLite file. */
  async ensure(report: Report, namespaces: string[] = []): Promise<'started' | 'running' | 'external'> {
    const ours = await livePid(this.pidFile, 'start-dev');
    if (!ours && (await this.reachable())) {
      await this.ensureNamespaces(namespaces);
      return 'external';
    }
    if (ours) {
      await waitFor('Temporal dev server', () => this.reachable(), 60_000, this.logFile);
      await this.ensureNamespaces(namespaces);
      return 'running';
    }
    if (!this.isLocalAddress) throw new Error(`Temporal at ${this.settings.temporalAddress} is not reachable`);
    const port = this.settings.temporalAddress.split(':')[1];
    await mkdir(this.dir, { recursive: true });
    report(`starting the Temporal dev server on ${this.settings.temporalAddress} (Web UI on port ${this.settings.uiPort})`);
    const args = [
      'server', 'start-dev', '--db-filename', this.dbFile, '--ip', '127.0.0.1', '--port', port, '--ui-port', String(this.settings.uiPort), '--log-level', 'warn', '--ui-disable-news-fetch',
      // The dev server reads new tasks at most 20 times a second by default: up to 50 ms added to
      // every step of every run. Raised, and the SQLite file in WAL mode (a crash loses nothing;
      // a power cut may lose the last commits, never the file).
      '--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000',
      '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal',
    ];
    for (const [key, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${key}=${type}`);
    for (const ns of namespaces) if (ns !== 'default') args.push('--namespace', ns);
    await spawnDetached(this.bin, args, { logFile: this.logFile, pidFile: this.pidFile, env: process.env });
    await waitFor('Temporal dev server', () => this.reachable(), 90_000, this.logFile);
    await this.ensureNamespaces(namespaces);
    return 'started';
  }

  /** Registers missing namespaces (and Baton's search attributes in them) on a running server. */
  async ensureNamespaces(namespaces: string[]): Promise<void> {
    const connection = await Connection.connect({ address: this.settings.temporalAddress });
    try {
      for (const namespace of new Set(['default', ...namespaces])) {
        try {
          await connection.workflowService.describeNamespace({ namespace });
        } catch {
          await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') });
          await waitFor(`namespace ${namespace}`, async () => !!(await connection.workflowService.describeNamespace({ namespace })), 30_000);
        }
        // A new namespace reaches every server component's cache only after a refresh (~10 s).
        let customAttributes: Record<string, unknown> | null | undefined;
        await waitFor(`namespace ${namespace}`, async () => {
          ({ customAttributes } = await connection.operatorService.listSearchAttributes({ namespace }));
          return true;
        }, 60_000);
        const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([key]) => !customAttributes?.[key]);
        if (missing.length) {
          const types = { Keyword: 2, KeywordList: 7 } as const;
          await waitFor(`search attributes in ${namespace}`, async () => {
            await connection.operatorService.addSearchAttributes({
              namespace,
              searchAttributes: Object.fromEntries(missing.map(([key, type]) => [key, types[type]])),
            });
            return true;
          }, 60_000);
        }
      }
    } finally {
      await connection.close();
    }
  }

  async stop(report: Report): Promise<void> {
    const pid = await livePid(this.pidFile, 'start-dev');
    if (!pid) return;
    await stopPid(pid);
    await rm(this.pidFile, { force: true });
    report('stopped the Temporal dev server');
  }
}

// ---- Worker ------------------------------------------------------------------------------------

export class WorkerProcess {
  readonly pidFile: string;
  readonly logFile: string;

  constructor(private readonly settings: ServiceSettings, readonly name = 'worker') {
    this.pidFile = path.join(settings.home, `${name}.pid`);
    this.logFile = path.join(settings.home, 'logs', `${name}.log`);
  }

  async pid(): Promise<number | undefined> {
    // The compiled worker; a worker started by an earlier Baton ran scripts/worker.ts under tsx.
    return (await livePid(this.pidFile, 'worker.js')) ?? livePid(this.pidFile, 'scripts/worker.ts');
  }

  async ensure(env: NodeJS.ProcessEnv): Promise<'started' | 'running'> {
    if (await this.pid()) return 'running';
    await this.start(env);
    return 'started';
  }

  async start(env: NodeJS.ProcessEnv): Promise<number> {
    const readyFile = path.join(path.dirname(this.pidFile), `${this.name}.ready`);
    await rm(readyFile, { force: true });
    const { buildWorker, COMPILED_NODE_FLAGS } = await import('./build'); // esbuild and the bundler: only where a worker starts
    const built = await buildWorker(this.settings.home);
    const pid = await spawnDetached(process.execPath, [...COMPILED_NODE_FLAGS, built.entry, '--workflow-bundle', built.workflowBundle], {
      logFile: this.logFile,
      pidFile: this.pidFile,
      env: { ...env, ...built.env, BATON_WORKER_READY_FILE: readyFile },
    });
    const deadline = Date.now() + 120_000;
    while ((await readPid(readyFile)) !== pid) {
      const tail = async () => (await readFile(this.logFile, 'utf8')).split('\n').slice(-5).join('\n');
      if (!isAlive(pid)) throw new Error(`the worker exited at start; see ${this.logFile}\n${await tail()}`);
      if (Date.now() > deadline) throw new Error(`the worker was not ready within 120s; see ${this.logFile}\n${await tail()}`);
      await sleep(250);
    }
    return pid;
  }

  async stop(report: Report): Promise<void> {
    const pid = await this.pid();
    if (!pid) return;
    await stopPid(pid, 30_000);
    await rm(this.pidFile, { force: true });
    report(`stopped the ${this.name}`);
  }
}

