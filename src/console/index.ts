/**
 * `baton ui`: the web console (src/console/app.ts) on an address of this machine. Who may use it
 * is settled before it listens (a non-loopback address needs a token); it reads the project's DAGs
 * and its Temporal namespace, and keeps nothing of its own.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { connectClient } from '../client';
import { loadConfig, type Config } from '../config';
import { loadCatalog, type Catalog } from '../dag-catalog';
import { currentOperator } from '../run-operations';
import { accessFor } from './access';
import { consoleApp } from './app';

export { ConsoleAccessError } from './access';

export const DEFAULT_CONSOLE_HOST = '127.0.0.1';
export const DEFAULT_CONSOLE_PORT = 8280;

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

export interface ConsoleOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** The DAGs it shows: the project's DAGs folder by default. */
  catalog?: Catalog;
  /** Where runs are read: the environment's settings by default. */
  config?: Config;
  /** The folder of worker logs a task's lines are read from (`BATON_CONSOLE_LOGS`; `.baton/logs` by default). */
  logsDir?: string;
}

/** Serves the console on `host:port` until closed. */
export async function serveConsole(opts: ConsoleOptions = {}): Promise<RunningConsole> {
  const env = opts.env ?? process.env;
  const host = opts.host ?? env.BATON_CONSOLE_HOST ?? DEFAULT_CONSOLE_HOST;
  const port = opts.port ?? Number(env.BATON_CONSOLE_PORT ?? DEFAULT_CONSOLE_PORT);
  // Refused before anything connects or listens: an open console on the network.
  const access = accessFor(host, env, currentOperator);
  const config = opts.config ?? loadConfig(env);
  const client = await connectClient(config);
  const catalog = opts.catalog ?? loadCatalog();
  const logsDir = opts.logsDir ?? env.BATON_CONSOLE_LOGS ?? path.join(config.home, 'logs');
  const app = consoleApp({ client, config, catalog, access, operator: currentOperator, logsDir });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.connection.close();
    },
  };
}
