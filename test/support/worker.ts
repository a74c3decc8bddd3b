/** The real worker entry point, started as a child process the way a deployment starts it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { COMPILED_NODE_FLAGS, compiledEnv } from '../../src/build';
import { repoRoot } from './platform';

export interface RunningWorker {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * How a worker process starts: as `npm start` runs it, compiled and with its workflows bundled
 * ahead of time, from the build `npm test` makes once from the current source
 * (BATON_TEST_WORKER_ENTRY and BATON_TEST_WORKFLOW_BUNDLE); otherwise from source under tsx,
 * bundling the workflows at start. A `--workflow-bundle` in `args` (a deploy test) wins.
 */
function workerCommand(env: NodeJS.ProcessEnv, args: string[]): { argv: string[]; env: NodeJS.ProcessEnv } {
  const entry = env.BATON_TEST_WORKER_ENTRY;
  if (!entry) return { argv: ['--import', 'tsx', 'scripts/worker.ts', ...args], env: {} };
  const bundle = args.includes('--workflow-bundle') || !env.BATON_TEST_WORKFLOW_BUNDLE ? [] : ['--workflow-bundle', env.BATON_TEST_WORKFLOW_BUNDLE];
  return { argv: [...COMPILED_NODE_FLAGS, entry, ...bundle, ...args], env: compiledEnv() };
}

/**
 * Starts the real worker entry point (`scripts/worker.ts`) as a user's deployment would: on the
 * worker's least-privilege database role when the test runner made one (BATON_WORKER_DATABASE_URL).
 */
export async function startWorkerProcess(env: NodeJS.ProcessEnv = process.env, args: string[] = []): Promise<RunningWorker> {
  const database = env.BATON_WORKER_DATABASE_URL ? { DATABASE_URL: env.BATON_WORKER_DATABASE_URL } : {};
  const command = workerCommand(env, args);
  const child = spawn(process.execPath, command.argv, {
    cwd: repoRoot,
    env: { ...env, ...command.env, ...database, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!output.includes('"msg":"worker ready"')) {
    if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`worker not ready after 120s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // A pending timer would hold the test file's process open for its full 20 s.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
