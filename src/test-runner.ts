/**
 * `npm test`: type-check, lint, bring up the platform the integration tier needs (its own
 * namespace and database, so a running `npm start` is never touched), run every tier, and
 * stop what it started.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { projectRoot, type ServiceSettings } from './config';
import { ensurePythonTools, isolatedEnv, startPlatform, stopStarted, workerDatabaseUrl } from './platform';
import { ensureChromium, type Report } from './services';

export const TEST_NAMESPACE = 'baton-test';
/** In order; `chaos` runs bounded here, in full with `npm run test:chaos` (BATON_CHAOS=full). */
const TIERS = ['unit', 'workflow', 'replay', 'integration', 'chaos'];

function testFiles(filter?: string): string[] {
  return TIERS.flatMap((tier) => {
    const dir = path.join(projectRoot, 'test', tier);
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();
    } catch {
      return [];
    }
    return names.map((f) => path.join('test', tier, f)).filter((f) => !filter || f.includes(filter));
  });
}

/** Tests that drive the Web UI in a headless browser are named `web-ui*.test.ts`. */
const isBrowserTest = (file: string) => path.basename(file).startsWith('web-ui');

function runInherited(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: projectRoot, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

export async function runTests(settings: ServiceSettings, report: Report, filter?: string, nodeTestArgs: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<number> {
  await ensurePythonTools(settings, report);
  const bin = (name: string) => path.join(projectRoot, 'node_modules', '.bin', name);
  report('type-checking (tsc --strict)');
  if ((await runInherited(bin('tsc'), ['-p', '.'], process.env)) !== 0) return 1;
  report('linting (eslint)');
  if ((await runInherited(bin('eslint'), ['.'], process.env)) !== 0) return 1;

  const files = testFiles(filter);
  // Installed only when a selected test needs it: Debian's Chromium is a large package.
  const chromium = files.some(isBrowserTest) ? await ensureChromium(report) : undefined;
  const platform = await startPlatform(settings, report, [TEST_NAMESPACE]);
  try {
    const isolated = await isolatedEnv(settings, platform, { namespace: TEST_NAMESPACE, database: 'baton_test', dataFolder: 'test-data' });
    const env: NodeJS.ProcessEnv = {
      ...isolated,
      // Worker processes connect on the least-privilege worker role (test/support.ts); tests set
      // up and check data as the owner (DATABASE_URL).
      BATON_WORKER_DATABASE_URL: await workerDatabaseUrl(platform, 'baton_test', isolated.DATABASE_URL!),
      BATON_RETRY_DELAY: '1s',
      BATON_DEPENDS_ON_PAST_POLL: '1s',
      BATON_SLOT_REFRESH: '5s',
      BATON_SENSOR_POKE_INTERVAL: '1s',
      BATON_SENSOR_TIMEOUT: '3s',
      BATON_FILE_SETTLE: '0s',
      // Test workers serve no metrics, so they never race each other (or `npm start`'s worker)
      // for port 9464; the metrics test gives its worker a port of its own.
      BATON_METRICS_PORT: 'off',
      BATON_TEST_SERVER: path.join(settings.venv, 'bin', 'temporal-test-server'),
      BATON_TEMPORAL_CLI: path.join(settings.venv, 'bin', 'temporal'),
      ...(chromium ? { BATON_CHROMIUM: chromium } : {}),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...extraEnv,
    };
    report(`running ${files.length} test files`);
    return await runInherited(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...nodeTestArgs, ...files], env);
  } finally {
    await stopStarted(platform, report);
  }
}

