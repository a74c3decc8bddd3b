/**
 * `baton init <dir>`: a project of a team's own that depends on Baton: its package.json,
 * tsconfig, baton.config.json, a dags/ folder with one example DAG (a task of its own makes the
 * day's file, loadCsv loads it under a column contract, SQL reads the table back), a Jest test
 * of that DAG, a .gitignore and a README with its two commands. Files that exist are kept; a
 * package.json that exists gets what is missing, never a changed value.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot, PROJECT_FILE } from './config';

export class InitError extends Error {
  override name = 'InitError';
}

interface PackageJson {
  name?: string;
  version?: string;
  private?: boolean;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Baton's own package.json: its name, its version, and the pins its tests run on. */
async function batonPackage(): Promise<PackageJson> {
  return JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as PackageJson;
}

/** A project name: what npm and a task queue both take. */
export function projectName(dir: string): string {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  if (!name) throw new InitError(`${dir}: the folder's name makes no project name; use letters and digits`);
  return name;
}

const DAG = (dagId: string, table: string) => `/**
 * ${dagId}: a task of this project's own makes the day's file (activities.ts beside this
 * file), loadCsv loads it under its column contract, and SQL reads the day back. Each task reads
 * the output of the one before it, so the edges follow from the reads: no upstream to keep in step.
 *
 *   npx baton dags test ${dagId} --ds 2024-05-06
 */
import { dag, loadCsv, ownTasks, sql, z } from 'baton/sdk';

const own = ownTasks<typeof import('./activities')>();

export default dag(
  {
    dagId: '${dagId}',
    description: 'A file made by a task of our own, loaded under a contract, read back',
    schedule: '@daily',
    startDate: '2024-01-01',
    tags: ['example'],
    params: z.object({ rows: z.number().int().min(1).max(10_000).default(5) }),
    defaultArgs: { owner: 'data-team', retries: 1, retryDelay: '30s' },
  },
  ({ ds, params }) => {
    const sample = own.writeGreetings('write_greetings', { args: { ds, rows: params.rows } });
    const loaded = loadCsv('load_greetings', {
      file: \`\${sample.path}\`,
      table: '${table}',
      mode: 'partition',
      contract: {
        header: 'exact',
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'name', type: 'text', maxLength: 100 },
          { name: 'greeted_on', type: 'date', rules: ['= ds'] },
        ],
        key: { columns: ['id'], keep: 'first' },
      },
    });
    const day = sql<{ rows: number }>('count_greetings', {
      upstream: [loaded],
      conn: 'warehouse',
      sql: \`SELECT count(*)::int AS rows FROM ${table} WHERE ds = \${ds}::date\`,
      output: 'firstRow',
    });
    return { written: sample.rows, loaded: loaded.rows, rejected: loaded.rejected, inTable: day.rows };
  },
);
`;

const ACTIVITIES = `/**
 * The example DAG's own task: any exported function is a task the DAG can run, on the worker.
 * It gets its args and a context (its run, connections, a logger, the data directory) and
 * returns small JSON: a reference to what it made and counts, never the data itself.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { failTask, type TaskContext } from 'baton/task';

/** Writes raw/greetings_<ds>.csv under the data directory: \`rows\` greetings dated ds. */
export async function writeGreetings({ ds, rows }: { ds: string; rows: number }, { dataPath, logger }: TaskContext) {
  if (!Number.isInteger(rows) || rows < 1) throw failTask(\`rows must be a whole number from 1, got \${JSON.stringify(rows)}\`, 'InvalidInput');
  const relative = \`raw/greetings_\${ds}.csv\`;
  const file = dataPath(relative);
  await mkdir(path.dirname(file), { recursive: true });
  const names = ['Ada', 'Grace', 'Edsger', 'Barbara', 'Donald'];
  const lines = Array.from({ length: rows }, (_, i) => \`\${i + 1},\${names[i % names.length]},\${ds}\`);
  await writeFile(file, ['id,name,greeted_on', ...lines].join('\\n') + '\\n');
  logger.info({ file: relative, rows }, 'greetings written');
  return { path: relative, rows };
}
`;

const TEST = (dagId: string) => `/**
 * ${dagId}, checked as the worker checks it (tsc, then every setting and template) and run on
 * Temporal's time-skipping test server with its tasks faked: the graph and the data flow,
 * without a database. \`npx baton dags test ${dagId}\` runs it for real.
 */
import { expect, test } from '@jest/globals';
import { checkDagFile, runDagTest } from 'baton/testing';
import path from 'node:path';

const file = path.join(__dirname, '..', 'dags', '${dagId}', 'dag.ts');

test('${dagId} validates, and its tasks hand each other their outputs', async () => {
  const dag = checkDagFile(file);
  expect(dag.order).toEqual(['write_greetings', 'load_greetings', 'count_greetings']);
  const { result, calls } = await runDagTest(file, {
    ds: '2024-05-06',
    tasks: {
      write_greetings: (args: { ds: string; rows: number }) => ({ path: \`raw/greetings_\${args.ds}.csv\`, rows: args.rows }),
      load_greetings: (settings: { file: string }) => ({ table: 't', rows: 5, rejected: 0, records: 5, duplicates: 0, replaced: 0, lines: 6, bytes: 90, file: settings.file }),
      count_greetings: () => ({ rows: 5 }),
    },
  });
  expect(calls.load_greetings).toMatchObject({ file: 'raw/greetings_2024-05-06.csv' });
  expect(result).toMatchObject({ state: 'success', written: 5, loaded: 5, rejected: 0, inTable: 5 });
});
`;

const README = (name: string, dagId: string) => `# ${name}

Data pipelines on [Baton](https://www.npmjs.com/package/baton): DAGs in \`dags/\`, run as durable Temporal workflows.

## The two commands

    npx baton start    # Temporal, Postgres and a worker serving dags/; it follows the folder as you edit
    npm test           # tsc, then the DAGs' own tests (test/)

## A run

    npx baton dags validate
    npx baton dags test ${dagId} --ds 2024-05-06
    npx baton trigger ${dagId} --ds 2024-05-06 --wait

The Temporal Web UI (http://localhost:8233) shows each run and its tasks. Or from the Temporal CLI:

    temporal workflow start --type ${dagId} --task-queue ${name} --workflow-id ${dagId}-2024-05-06 --input '{"ds":"2024-05-06"}'

## Settings

\`baton.config.json\`: the DAGs folder (\`dags\`) and the task queue this project's worker polls (\`${name}\`).
Connections are environment variables: \`BATON_CONN_<NAME>=postgres://...\`; \`DATABASE_URL\` is the warehouse.
`;

const withoutPlaceholder = (scripts: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(scripts).filter(([name, command]) => !(name === 'test' && /no test specified/.test(command))));

const GITIGNORE = 'node_modules/\n.baton/\ndata/\n*.log\n';

/** Writes the project; returns the files it wrote (those that were there are kept as they are). */
export async function initProject(dir: string, options: { batonSpec?: string } = {}): Promise<string[]> {
  const root = path.resolve(dir);
  const name = projectName(root);
  const dagId = name.replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+/, '') + '_hello';
  const table = `examples.${dagId}`;
  const baton = await batonPackage();
  const pins = baton.devDependencies ?? {};
  const written: string[] = [];
  const write = async (relative: string, text: string) => {
    const file = path.join(root, relative);
    if (existsSync(file)) return;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    written.push(relative);
  };

  const pkgFile = path.join(root, 'package.json');
  const existing: PackageJson = existsSync(pkgFile) ? (JSON.parse(await readFile(pkgFile, 'utf8')) as PackageJson) : {};
  const pkg: PackageJson = {
    name,
    version: '0.1.0',
    private: true,
    ...existing,
    // `npm init`'s placeholder test script gives way to the project's tests.
    scripts: { start: 'baton start', test: 'tsc -p . && jest', ...withoutPlaceholder(existing.scripts) },
    dependencies: { baton: options.batonSpec ?? `^${baton.version}`, ...existing.dependencies },
    devDependencies: {
      '@jest/globals': pins['@jest/globals']!,
      '@swc/core': pins['@swc/core']!,
      '@swc/jest': pins['@swc/jest']!,
      '@temporalio/testing': pins['@temporalio/testing']!,
      '@types/node': pins['@types/node']!,
      jest: pins.jest!,
      ...existing.devDependencies,
    },
    jest: existing.jest ?? {
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
      // Baton runs from its TypeScript source: Jest compiles it as it compiles the project's.
      transformIgnorePatterns: ['/node_modules/(?!baton/)'],
      testTimeout: 120000,
    },
  };
  if (JSON.stringify(pkg) !== JSON.stringify(existing)) {
    await writeFile(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    written.push('package.json');
  }
  await write(
    'tsconfig.json',
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          esModuleInterop: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
        },
        include: ['dags', 'test'],
      },
      null,
      2,
    )}\n`,
  );
  await write(PROJECT_FILE, `${JSON.stringify({ dags: 'dags', taskQueue: name }, null, 2)}\n`);
  await write(`dags/${dagId}/dag.ts`, DAG(dagId, table));
  await write(`dags/${dagId}/activities.ts`, ACTIVITIES);
  await write(`test/${dagId}.test.ts`, TEST(dagId));
  await write('.gitignore', GITIGNORE);
  await write('README.md', README(name, dagId));
  return written;
}
