/** The environment `npm test` prepares (src/test-runner/index.ts): config, pools, folders, the CLIs. */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logging';

export const repoRoot = path.resolve(__dirname, '..', '..');

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig(), ...overrides };
}

export const quietLogger = createLogger('silent');

export function testPool(config: Config = testConfig()): Pool {
  return new Pool({ connectionString: config.databaseUrl, max: 4 });
}

/** A port nothing listens on now, on the loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function tempDir(prefix = 'baton-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** The time-skipping test server from the project venv (never downloaded). */
export function testServerPath(): string {
  const p = process.env.BATON_TEST_SERVER;
  if (!p) throw new Error('BATON_TEST_SERVER is not set: run the tests with `npm test`');
  return p;
}

export const execFileAsync = promisify(execFile);

/** The pinned Temporal CLI, pointed at the test server and namespace. */
export async function temporalCli(args: string[]): Promise<string> {
  const bin = process.env.BATON_TEMPORAL_CLI;
  if (!bin) throw new Error('BATON_TEMPORAL_CLI is not set: run the tests with `npm test`');
  const config = loadConfig();
  const { stdout } = await execFileAsync(bin, [...args, '--address', config.temporal.address, '--namespace', config.temporal.namespace]);
  return stdout;
}
