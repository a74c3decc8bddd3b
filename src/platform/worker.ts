/** The worker `npm start` runs in the background: built once, started detached, ready when it says so. */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ServiceSettings } from '../config';
import { isAlive, livePid, readPid, sleep, spawnDetached, stopPid, type Report } from './processes';

export class WorkerProcess {
  readonly pidFile: string;
  readonly logFile: string;

  constructor(
    private readonly settings: ServiceSettings,
    readonly name = 'worker',
  ) {
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
    const { buildWorker, COMPILED_NODE_FLAGS } = await import('../build'); // esbuild and the bundler: only where a worker starts
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
