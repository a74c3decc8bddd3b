/**
 * The processes Baton starts and stops: commands run with argument arrays, pid files that name a
 * process by pid and start time (a reused pid is not ours), a lock file for one-at-a-time
 * set-up, and background processes whose output goes to a log under `.baton/`.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../config';

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
        code === 0
          ? resolve({ stdout, stderr })
          : reject(new Error(`${path.basename(cmd)} ${args[0] ?? ''} exited ${code}: ${stderr.trim() || stdout.trim()}`)),
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
export async function readPid(file: string): Promise<number | undefined> {
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
export async function spawnDetached(cmd: string, args: string[], opts: { logFile: string; pidFile: string; env: NodeJS.ProcessEnv; cwd?: string }) {
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

export async function stopPid(pid: number, timeoutMs = 15_000): Promise<void> {
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

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  const tail =
    logFile && existsSync(logFile) ? `\n--- last lines of ${logFile} ---\n${(await readFile(logFile, 'utf8')).split('\n').slice(-20).join('\n')}` : '';
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s${tail}`);
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
