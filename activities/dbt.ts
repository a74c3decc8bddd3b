/**
 * dbt: models are built by dbt itself, run as a child process with an argument array.
 * The activity heartbeats while dbt runs, kills it on cancellation, and reports each model's
 * status from dbt's own run_results.json.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../src/config';
import type { DbtModelResult } from '../src/contracts';
import { cancellationSignal, whileHeartbeating } from '../src/data/heartbeat';
import { dagFolderFile, type DagFolders } from './operators/dag-folder';

export interface DbtDeps {
  config: Pick<Config, 'dbt' | 'databaseUrl'>;
}

/** The profile's connection, passed to dbt in its environment (never on the command line). */
export function dbtEnvironment(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const socketHost = url.searchParams.get('host');
  return {
    BATON_PG_HOST: socketHost ?? (url.hostname || 'localhost'),
    BATON_PG_PORT: url.port || '5432',
    BATON_PG_USER: decodeURIComponent(url.username),
    BATON_PG_PASSWORD: decodeURIComponent(url.password),
    BATON_PG_DBNAME: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
  };
}

interface RunResultsFile {
  results: Array<{
    unique_id: string;
    status: string;
    execution_time: number;
    message: string | null;
  }>;
}

const SELECTOR = /^[A-Za-z0-9_:+.,*@ -]+$/;

export interface DbtInvocation {
  /** dbt's command and its arguments, before the project, profile and target paths Baton adds. */
  args: string[];
  projectDir: string;
  profilesDir: string;
}

export interface DbtInvocationResult {
  exitCode: number;
  nodes: DbtModelResult[];
  /** The last lines dbt printed. */
  output: string[];
}

/** Runs dbt once with its own target folder (concurrent runs never share run_results.json), heartbeating; kills it on cancel. */
export async function invokeDbt(config: DbtDeps['config'], { args, projectDir, profilesDir }: DbtInvocation): Promise<DbtInvocationResult> {
  const targetPath = await mkdtemp(path.join(os.tmpdir(), 'baton-dbt-'));
  const output: string[] = [];
  const started = Date.now();
  try {
    const exitCode = await whileHeartbeating(
      runProcess(
        config.dbt.bin,
        [...args, '--project-dir', projectDir, '--profiles-dir', profilesDir, '--target-path', targetPath, '--log-path', targetPath, '--no-use-colors'],
        {
          cwd: projectDir,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? os.tmpdir(),
            DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
            ...dbtEnvironment(config.databaseUrl),
          },
          onLine: (line) => {
            output.push(line);
            if (output.length > 200) output.shift();
          },
        },
      ),
      () => ({ elapsedMs: Date.now() - started, lastLine: output.at(-1) ?? '' }),
    );
    return { exitCode, nodes: await readRunResults(targetPath), output };
  } finally {
    await rm(targetPath, { recursive: true, force: true });
  }
}

/** The statuses of dbt's run_results.json that are not a failure: built, passed, warned. */
export const DBT_OK_STATUSES: ReadonlySet<string> = new Set(['success', 'pass', 'warn']);

/** dbt's own error text: the failed nodes, else the lines of its first error. */
export function dbtFailureDetail(result: DbtInvocationResult): string {
  const failed = result.nodes.filter((m) => !DBT_OK_STATUSES.has(m.status));
  return failed.length ? failed.map((m) => `${m.model} ${m.status}: ${m.message ?? ''}`).join('; ') : dbtErrorLines(result.output);
}

export const DBT_SELECTOR = SELECTOR;

/**
 * A DAG's dbt project, `project` a folder of the DAG's (confined to it), and the profiles it
 * runs with: its own profiles.yml, or Baton's (profile `baton`: the warehouse). `who` starts the
 * message of a project without dbt_project.yml.
 */
export async function dagDbtProject(
  config: DbtDeps['config'],
  folders: DagFolders,
  dagId: string,
  project: string,
  who: string,
): Promise<{ projectDir: string; profilesDir: string }> {
  const projectDir = await dagFolderFile(folders, dagId, project);
  if (!existsSync(path.join(projectDir, 'dbt_project.yml')))
    throw ApplicationFailure.nonRetryable(`${who}: ${project} has no dbt_project.yml`, 'DbtProjectNotFound');
  return { projectDir, profilesDir: existsSync(path.join(projectDir, 'profiles.yml')) ? projectDir : config.dbt.projectDir };
}

/** A node's name from its unique_id: `model.my_project.daily_revenue` is daily_revenue; a test's hash suffix is dropped. */
function nodeName(uniqueId: string): string {
  const parts = uniqueId.split('.');
  if (parts[0] === 'test' && parts.length >= 4) return parts[2];
  return parts.at(-1) ?? uniqueId;
}

async function readRunResults(targetPath: string): Promise<DbtModelResult[]> {
  let text: string;
  try {
    text = await readFile(path.join(targetPath, 'run_results.json'), 'utf8');
  } catch {
    return [];
  }
  const parsed = JSON.parse(text) as RunResultsFile;
  return parsed.results.map((r) => ({
    model: nodeName(r.unique_id),
    status: r.status,
    executionTimeSeconds: Math.round(r.execution_time * 1000) / 1000,
    ...(r.message && r.status !== 'success' ? { message: r.message } : {}),
  }));
}

/** dbt's own error text: the lines from its first error on, or the tail of its output. */
function dbtErrorLines(lines: string[]): string {
  const first = lines.findIndex((l) => /error/i.test(l));
  const picked = first === -1 ? lines.slice(-15) : lines.slice(first, first + 15);
  return picked
    .map((l) => l.replace(/^\d{2}:\d{2}:\d{2}\s+/, '').trim())
    .filter(Boolean)
    .join(' | ');
}

interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: (line: string) => void;
}

/**
 * Spawns `bin args...` (no shell), streams its output lines, and resolves with its exit code.
 * On activity cancellation, sends SIGTERM, then SIGKILL after 10 s.
 */
function runProcess(bin: string, args: string[], { cwd, env, onLine }: RunOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const signal = cancellationSignal();
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let pending = '';
    const onData = (chunk: Buffer) => {
      const text = pending + chunk.toString('utf8');
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      if (err.code === 'ENOENT') {
        reject(ApplicationFailure.nonRetryable(`dbt executable not found at ${bin}; run \`npm start\` or set BATON_DBT_BIN`, 'DbtNotInstalled'));
      } else reject(err);
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (pending) onLine(pending);
      if (signal.aborted) {
        reject(signal.reason ?? new Error(`dbt was cancelled (${sig ?? code})`));
        return;
      }
      resolve(code ?? 128);
    });
  });
}
