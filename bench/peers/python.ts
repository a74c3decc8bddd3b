/**
 * The peers' side of scenario 8: their own venv (.baton/peers-venv, pinned by
 * bench/peers/requirements.txt) and their processes, each in a process group of its own so
 * that stopping one ends everything it started (Airflow standalone runs a scheduler with 32
 * LocalExecutor workers, a dag processor, a triggerer and an API server; Prefect a temporary
 * API server), on success, failure and Ctrl-C alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { run } from '../../src/platform';
import { sleep } from '../harness';

export const PEERS_REQUIREMENTS = path.join(__dirname, 'requirements.txt');

/** The venv with Airflow, Prefect and pandas; reinstalled only when requirements.txt changes. Returns what the install took, or undefined when nothing was installed. */
export async function ensurePeersVenv(venv: string, say: (line: string) => void): Promise<number | undefined> {
  const want = createHash('sha256')
    .update(await readFile(PEERS_REQUIREMENTS))
    .digest('hex');
  const marker = path.join(venv, '.baton-requirements');
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === want) return undefined;
  say(`peers: installing apache-airflow, prefect and pandas into ${path.relative(process.cwd(), venv)} (pinned; a few minutes the first time)`);
  const started = performance.now();
  if (!existsSync(path.join(venv, 'bin', 'python'))) await run('python3', ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', '-r', PEERS_REQUIREMENTS]);
  await writeFile(marker, want);
  return performance.now() - started;
}

/** The pinned version of a package, read from requirements.txt (what the labels name). */
export async function pinnedVersion(pkg: string): Promise<string> {
  const line = (await readFile(PEERS_REQUIREMENTS, 'utf8')).split('\n').find((l) => l.toLowerCase().startsWith(`${pkg.toLowerCase()}==`));
  if (!line) throw new Error(`${pkg} is not pinned in ${PEERS_REQUIREMENTS}`);
  return line.split('==')[1].trim();
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ProcessGroup {
  child: ChildProcess;
  log: string;
  /** Resolves with the exit code (or the signal's name) once the group's leader has exited. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

export interface Conversation extends ProcessGroup {
  /** The next line the process writes on its file descriptor 3 (its first: that it is ready). */
  next(what: string, timeoutMs: number): Promise<string>;
  /** Writes a command line on its stdin and waits for its answer line. */
  ask(command: string, timeoutMs: number): Promise<string>;
}

/** Processes below `root` (children, grandchildren, ...), from /proc: also those that moved to a group of their own. */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat = '';
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Alive and not a zombie waiting to be reaped. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Leaders of the groups still running; a Ctrl-C (or SIGTERM) of the bench takes them down first, since they are detached from its terminal. */
const running = new Set<number>();
function onSignal(sig: NodeJS.Signals): void {
  for (const pid of running) {
    for (const p of descendants(pid)) signal(p, 'SIGKILL');
    signal(-pid, 'SIGKILL');
  }
  process.exit(sig === 'SIGINT' ? 130 : 143);
}
function track(pid: number): void {
  if (!running.size) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  running.add(pid);
}
function untrack(pid: number): void {
  running.delete(pid);
  if (!running.size) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Starts a command as the leader of a new process group, its output into `log`. stop() sends
 * SIGTERM to the group and to every process below the leader (Airflow's task runners put
 * themselves in groups of their own), then SIGKILL to what is left after `graceMs`.
 */
export function startGroup(
  cmd: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; log: string; graceMs?: number; conversation?: boolean },
): ProcessGroup {
  const fd = openSync(options.log, 'w');
  const stdio = options.conversation ? (['pipe', fd, fd, 'pipe'] as const) : (['ignore', fd, fd] as const);
  const child = spawn(cmd, args, { env: options.env, cwd: options.cwd, detached: true, stdio: [...stdio] });
  closeSync(fd);
  const pid = child.pid!;
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  child.once('error', () => undefined);
  track(pid);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const tree = [pid, ...descendants(pid)];
      signal(-pid, 'SIGTERM');
      for (const p of tree) signal(p, 'SIGTERM');
      const deadline = Date.now() + (options.graceMs ?? 30_000);
      let left = tree;
      while (Date.now() < deadline) {
        left = (await Promise.all(left.map(async (p) => ((await alive(p)) ? p : 0)))).filter(Boolean);
        if (!left.length) break;
        await sleep(250);
      }
      signal(-pid, 'SIGKILL');
      for (const p of left) signal(p, 'SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
      untrack(pid);
    })());
  return { child, log: options.log, exited, stop };
}

/** Starts a process that answers commands line by line (see startGroup and bench/peers/prefect_runs.py). */
export function startConversation(cmd: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; log: string }): Conversation {
  const group = startGroup(cmd, args, { ...options, conversation: true });
  group.child.stdin!.on('error', () => undefined); // it has exited: next() says so, with its log
  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  let exitCode: number | string | undefined;
  createInterface({ input: group.child.stdio[3] as Readable }).on('line', (line) => {
    lines.push(line);
    waiting?.();
  });
  void group.exited.then((code) => {
    exitCode = code;
    waiting?.();
  });
  const next = async (what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!lines.length) {
      if (exitCode !== undefined)
        throw new Error(`${path.basename(args[0] ?? cmd)} exited ${exitCode} before ${what}; its log (${options.log}) ends:\n${await logTail(options.log)}`);
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; the log (${options.log}) ends:\n${await logTail(options.log)}`);
      await new Promise<void>((resolve) => {
        waiting = resolve;
        setTimeout(resolve, 1_000);
      });
      waiting = undefined;
    }
    return lines.shift()!;
  };
  const ask = (command: string, timeoutMs: number) => {
    group.child.stdin!.write(`${command}\n`);
    return next(`the answer to ${command}`, timeoutMs);
  };
  return { ...group, next, ask };
}

/** The last lines of a log, for an error message. */
export async function logTail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a command to its end in a group of its own (see startGroup); fails with the log's tail on a non-zero exit or after `timeoutMs`. */
export async function runGroup(cmd: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; log: string; timeoutMs: number }): Promise<void> {
  const group = startGroup(cmd, args, { ...options, graceMs: 10_000 });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([group.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs)))]);
  clearTimeout(timer);
  await group.stop();
  const what = `${path.basename(cmd)} ${args.map((a) => path.basename(a)).join(' ')}`;
  if (outcome === 'timeout')
    throw new Error(`${what} did not end in ${options.timeoutMs / 1000} s; its log (${options.log}) ends:\n${await logTail(options.log)}`);
  if (outcome !== 0) throw new Error(`${what} exited ${outcome}; its log (${options.log}) ends:\n${await logTail(options.log)}`);
}
