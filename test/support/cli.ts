import path from 'node:path';
import { main } from '../../src/cli';
import { execFileAsync, repoRoot } from './platform';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `baton <args>` run in this process, as scripts/baton.js runs it: the same `main`, its lines
 * captured. `env` is set for the call and put back after. Tests use it for all but the paths
 * that need a process of its own (a real exit code, a CLI killed mid-run).
 */
export async function baton(args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const before = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'baton', ...args], { out: (line) => out.push(line), err: (line) => err.push(line) });
    return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
  } finally {
    process.exitCode = undefined;
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** `baton <args>` in a process of its own (scripts/baton.js): its exit code and output. */
export async function batonProcess(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(repoRoot, 'scripts', 'baton.js'), ...args], { cwd: repoRoot, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
