/**
 * `npm test`: type-check, lint, check the formatting, bring up the platform the tests need (their
 * own namespace and database, so a running `npm start` is never touched), run every tier on Jest
 * in order, print the coverage against its floor, and stop what it started.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { extract, parse } from 'jest-docblock';
import { projectRoot, type ServiceSettings } from '../config';
import { ensurePythonTools, isolatedEnv, startPlatform, stopStarted, workerDatabaseUrl, type Report } from '../platform';
import { buildWorker } from '../build';
import { checkCoverage } from './coverage';
import { ensureChromium, ensureDockerCompose } from './debian-tools';

export const TEST_NAMESPACE = 'baton-test';

/**
 * The tiers' runs, in order, and how many files of each run at once. Files run at once each get
 * a lane of their own (LANES): a namespace (so their workers never share a task queue), a
 * database (so their warehouses and dbt models never meet) and a data folder. The workflow and
 * replay tiers share one Jest run (both bundle workflows), as the integration and chaos tiers
 * share another. The unit tier runs alone: a Jest worker that has bundled workflows is heavy, and
 * every light file after it in that worker pays for it in coverage and collection. A chaos file
 * breaks only what is its own (its workers, its dbt, its sessions, a Temporal server of its own).
 * A file whose docblock says `@exclusive` breaks what every lane shares (it crashes the Postgres
 * cluster) and runs after, on its own. `chaos` runs bounded here, in full with `npm run
 * test:chaos` (BATON_CHAOS=full).
 */
const TIERS: Array<{ name: string; folders: string[]; workers: number; exclusive?: boolean }> = [
  { name: 'unit', folders: ['unit'], workers: 2 },
  { name: 'workflow and replay', folders: ['workflow', 'replay'], workers: 2 },
  { name: 'integration and chaos', folders: ['integration', 'chaos'], workers: 4 },
  { name: 'chaos, exclusive', folders: ['chaos'], workers: 1, exclusive: true },
];

/** The lanes: the first is the one a single file (and every exclusive file) runs in. */
const LANES = [1, 2, 3, 4].map((n) => ({
  namespace: n === 1 ? TEST_NAMESPACE : `${TEST_NAMESPACE}-${n}`,
  database: n === 1 ? 'baton_test' : `baton_test_${n}`,
  dataFolder: n === 1 ? 'test-data' : `test-data-${n}`,
}));

/** Whether a test file's docblock marks it `@exclusive`: it breaks what the lanes share. */
function isExclusive(file: string): boolean {
  return 'exclusive' in parse(extract(readFileSync(path.join(projectRoot, file), 'utf8')));
}

function testFiles(folder: string, filter?: string): string[] {
  const dir = path.join(projectRoot, 'test', folder);
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts'))
      .sort();
  } catch {
    return [];
  }
  return names.map((f) => path.join('test', folder, f)).filter((f) => !filter || f.includes(filter));
}

function tierFiles(tier: (typeof TIERS)[number], filter?: string): string[] {
  return tier.folders.flatMap((folder) => testFiles(folder, filter)).filter((f) => isExclusive(f) === (tier.exclusive ?? false));
}

/** Tests that drive the Web UI in a headless browser are named `web-ui*.test.ts`. */
const isBrowserTest = (file: string) => path.basename(file).startsWith('web-ui');
const isComposeTest = (file: string) => path.basename(file).startsWith('docker-compose');

function runInherited(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: projectRoot, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const bin = (name: string) => path.join(projectRoot, 'node_modules', '.bin', name);

/** tsc, eslint and Prettier (check mode): a red build names the file before any test runs. */
async function staticChecks(report: Report): Promise<boolean> {
  report('type-checking (tsc --strict)');
  if ((await runInherited(bin('tsc'), ['-p', '.'], process.env)) !== 0) return false;
  report('linting (eslint)');
  if ((await runInherited(bin('eslint'), ['.'], process.env)) !== 0) return false;
  report('checking the formatting (prettier --check)');
  return (await runInherited(bin('prettier'), ['--check', '--log-level', 'warn', '.'], process.env)) === 0;
}

export async function runTests(
  settings: ServiceSettings,
  report: Report,
  filter?: string,
  jestArgs: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<number> {
  const begun = Date.now();
  const tiers = TIERS.map((t) => ({ ...t, files: tierFiles(t, filter) })).filter((t) => t.files.length > 0);
  const files = tiers.flatMap((t) => t.files);
  if (!files.length) {
    report(`no test file matches ${filter}`);
    return 1;
  }
  // The static checks take the CPU while the installs wait on the network and the disk: they run
  // side by side. The Debian tools a selected test needs (Chromium is a large package), then the
  // platform, one after another (apt takes one lock).
  let chromium: string | undefined;
  // Test workers run as `npm start`'s does, compiled and bundled once from the current source
  // (each started from source would bundle the workflows again).
  const worker = buildWorker(settings.home, path.join(settings.home, 'test-build'));
  const setUp = (async () => {
    await ensurePythonTools(settings, report);
    if (files.some(isBrowserTest)) chromium = await ensureChromium(report);
    if (files.some(isComposeTest)) await ensureDockerCompose(report);
    return startPlatform(
      settings,
      report,
      LANES.map((lane) => lane.namespace),
    );
  })();
  worker.catch(() => undefined); // awaited below
  setUp.catch(() => undefined); // awaited below, after the checks
  const checked = await staticChecks(report);
  const platform = await setUp;
  if (!checked) {
    await stopStarted(platform, report);
    return 1;
  }
  try {
    // Each lane's variables; test/support/lane-environment.js gives a Jest worker the lane of its number.
    // With DATABASE_URL of your own there is one database, so one lane: files run one at a time.
    const lanes: NodeJS.ProcessEnv[] = [];
    let first: NodeJS.ProcessEnv | undefined;
    for (const lane of platform.postgres ? LANES : LANES.slice(0, 1)) {
      const isolated = await isolatedEnv(settings, platform, lane);
      first ??= isolated;
      lanes.push({
        DATABASE_URL: isolated.DATABASE_URL,
        BATON_CONN_POSTGRES_PROD: isolated.BATON_CONN_POSTGRES_PROD,
        TEMPORAL_NAMESPACE: isolated.TEMPORAL_NAMESPACE,
        BATON_DATA_DIR: isolated.BATON_DATA_DIR,
        // Worker processes connect on the least-privilege worker role (test/support/worker.ts);
        // tests set up and check data as the owner (DATABASE_URL).
        BATON_WORKER_DATABASE_URL: await workerDatabaseUrl(platform, lane.database, isolated.DATABASE_URL!),
      });
    }
    const built = await worker;
    const env: NodeJS.ProcessEnv = {
      ...first,
      ...lanes[0],
      BATON_TEST_LANES: JSON.stringify(lanes),
      // Baton's own cluster, which the chaos tier may crash; never a DATABASE_URL of yours.
      BATON_TEST_POSTGRES: platform.postgres ? 'local' : 'external',
      BATON_RETRY_DELAY: '1s',
      BATON_DEPENDS_ON_PAST_POLL: '1s',
      BATON_SLOT_REFRESH: '5s',
      BATON_SENSOR_POKE_INTERVAL: '1s',
      BATON_SENSOR_TIMEOUT: '3s',
      BATON_FILE_SETTLE: '0s',
      // Test workers serve no metrics, so they never race each other (or `npm start`'s worker)
      // for port 9464; the metrics test gives its worker a port of its own.
      BATON_METRICS_PORT: 'off',
      BATON_TEST_WORKER_ENTRY: built.entry,
      BATON_TEST_WORKFLOW_BUNDLE: built.workflowBundle,
      BATON_TEST_SERVER: path.join(settings.venv, 'bin', 'temporal-test-server'),
      BATON_TEMPORAL_CLI: path.join(settings.venv, 'bin', 'temporal'),
      ...(chromium ? { BATON_CHROMIUM: chromium } : {}),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...extraEnv,
    };
    const coverageRoot = path.join(settings.home, 'coverage');
    await rm(coverageRoot, { recursive: true, force: true });
    let failed = 0;
    for (const [i, { name, workers: wanted, files: selected }] of tiers.entries()) {
      const workers = Math.min(wanted, lanes.length, selected.length);
      report(`${name}: ${selected.length} test file${selected.length === 1 ? '' : 's'}${workers > 1 ? `, ${workers} at a time` : ''}`);
      const args = [
        bin('jest'),
        '--ci',
        ...(workers > 1 ? [`--maxWorkers=${workers}`] : ['--runInBand']),
        '--coverage',
        `--coverageDirectory=${path.join(coverageRoot, String(i))}`,
        '--coverageReporters=json',
        ...jestArgs,
        '--runTestsByPath',
        ...selected,
      ];
      const started = Date.now();
      if ((await runInherited(process.execPath, args, env)) !== 0) failed++;
      report(`${name}: ${Math.round((Date.now() - started) / 1000)} s`);
    }
    // A subset's coverage is a subset's: the floor holds for the whole suite.
    const coverageOk = await checkCoverage(coverageRoot, report, { enforceFloor: !filter && failed === 0 });
    report(`${failed === 0 && coverageOk ? 'passed' : 'failed'} in ${Math.round((Date.now() - begun) / 1000)} s`);
    return failed === 0 && coverageOk ? 0 : 1;
  } finally {
    await stopStarted(platform, report);
  }
}
