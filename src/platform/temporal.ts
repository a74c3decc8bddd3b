/**
 * The Temporal dev server `npm start` runs (its Web UI included) on a persistent SQLite file,
 * with Baton's namespaces and search attributes registered.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { ServiceSettings } from '../config';
import { SEARCH_ATTRIBUTES, searchAttributeTypes } from '../contracts';
import { livePid, spawnDetached, stopPid, waitFor, type Report } from './processes';

export class LocalTemporal {
  readonly dir: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly dbFile: string;

  /** `headless`: no Web UI (a test's private server). */
  constructor(
    private readonly settings: ServiceSettings,
    private readonly options: { headless?: boolean } = {},
  ) {
    this.dir = path.join(settings.home, 'temporal');
    this.pidFile = path.join(this.dir, 'server.pid');
    this.logFile = path.join(this.dir, 'server.log');
    this.dbFile = path.join(this.dir, 'temporal.db');
  }

  /** The gRPC address the server listens on (host:port). */
  get address(): string {
    return this.settings.temporalAddress;
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
    report(`starting the Temporal dev server on ${this.settings.temporalAddress}${this.options.headless ? '' : ` (Web UI on port ${this.settings.uiPort})`}`);
    const args = [
      'server',
      'start-dev',
      '--db-filename',
      this.dbFile,
      '--ip',
      '127.0.0.1',
      '--port',
      port,
      ...(this.options.headless ? ['--headless'] : ['--ui-port', String(this.settings.uiPort)]),
      '--log-level',
      'warn',
      '--ui-disable-news-fetch',
      // The dev server reads new tasks at most 20 times a second by default: up to 50 ms added to
      // every step of every run. Raised, and the SQLite file in WAL mode (a crash loses nothing;
      // a power cut may lose the last commits, never the file).
      '--dynamic-config-value',
      'history.transferProcessorMaxPollRPS=1000',
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
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
        await waitFor(
          `namespace ${namespace}`,
          async () => {
            ({ customAttributes } = await connection.operatorService.listSearchAttributes({ namespace }));
            return true;
          },
          60_000,
        );
        const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([key]) => !customAttributes?.[key]);
        if (missing.length) {
          await waitFor(
            `search attributes in ${namespace}`,
            async () => {
              await connection.operatorService.addSearchAttributes({
                namespace,
                searchAttributes: searchAttributeTypes(missing),
              });
              return true;
            },
            60_000,
          );
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
