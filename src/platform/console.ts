/** The web console `baton start` (and `npm start`) runs beside the worker: `baton ui`, detached, ready when it says so. */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ServiceSettings } from '../config';
import { isAlive, livePid, sleep, spawnDetached, stopPid, type Report } from './processes';

export class ConsoleProcess {
  readonly pidFile: string;
  readonly logFile: string;
  private readonly urlFile: string;

  constructor(private readonly settings: ServiceSettings) {
    this.pidFile = path.join(settings.home, 'console.pid');
    this.logFile = path.join(settings.home, 'logs', 'console.log');
    this.urlFile = path.join(settings.home, 'console.url');
  }

  pid(): Promise<number | undefined> {
    return livePid(this.pidFile, 'cli.ts ui');
  }

  /** The console's address: the running one's, or one started now. */
  async ensure(env: NodeJS.ProcessEnv): Promise<{ state: 'started' | 'running'; url: string }> {
    if (await this.pid()) {
      const url = (await readFile(this.urlFile, 'utf8').catch(() => '')).trim();
      if (url) return { state: 'running', url };
      await this.stop(() => undefined);
    }
    return { state: 'started', url: await this.start(env) };
  }

  private async start(env: NodeJS.ProcessEnv): Promise<string> {
    await rm(this.urlFile, { force: true });
    const cli = path.join(__dirname, '..', '..', 'scripts', 'cli.ts');
    const pid = await spawnDetached(process.execPath, ['--import', require.resolve('tsx'), cli, 'ui', '--url-file', this.urlFile], {
      logFile: this.logFile,
      pidFile: this.pidFile,
      env,
      cwd: this.settings.project.dir,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const url = (await readFile(this.urlFile, 'utf8').catch(() => '')).trim();
      if (url) return url;
      const tail = async () => (await readFile(this.logFile, 'utf8').catch(() => '')).split('\n').slice(-5).join('\n');
      if (!isAlive(pid)) throw new Error(`the console exited at start; see ${this.logFile}\n${await tail()}`);
      if (Date.now() > deadline) throw new Error(`the console was not ready within 60s; see ${this.logFile}\n${await tail()}`);
      await sleep(200);
    }
  }

  async stop(report: Report): Promise<void> {
    const pid = await this.pid();
    if (!pid) return;
    await stopPid(pid, 10_000);
    await rm(this.pidFile, { force: true });
    await rm(this.urlFile, { force: true });
    report('stopped the console');
  }
}
