/**
 * The local Postgres 15 cluster `npm start` runs: Debian's binaries, a private port and socket
 * folder, the `baton` role and database with a generated password, and the worker's
 * least-privilege role. initdb refuses root, so the cluster belongs to the postgres user.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { localDatabaseUrlFile, projectRoot, type ServiceSettings } from '../config';
import { installDebianPackage } from './debian';
import { isAlive, isRoot, readPid, run, sleep, type Report } from './processes';

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
    await installDebianPackage('postgresql-15', report, 'the local warehouse (or set DATABASE_URL)');
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
    await this.asOwner(path.join(bin, 'initdb'), [
      '-D',
      this.dataDir,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
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
    const { stdout } = await run(
      path.join(bin, 'psql'),
      ['-h', this.socketDir, '-p', String(this.settings.pgPort), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', ...variables, '-qAtX', '-f', '-'],
      { input: sql },
    );
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
