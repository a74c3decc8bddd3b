/** Shared set-up for the test tiers: the environment `npm test` prepares (src/test-runner.ts). */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { loadConfig, type Config } from '../src/config';
import { createLogger } from '../src/logging';

export const repoRoot = path.resolve(__dirname, '..');

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig(), ...overrides };
}

export const quietLogger = createLogger('silent');

export function testPool(config: Config = testConfig()): Pool {
  return new Pool({ connectionString: config.databaseUrl, max: 4 });
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

export async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}
