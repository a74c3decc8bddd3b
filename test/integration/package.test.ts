/**
 * Baton as a team installs it: `npm pack`, then in a fresh folder outside the checkout the
 * tarball installed, `baton init`, a DAG of the team's own added (a task of its own makes a CSV,
 * loadCsv loads it under a contract), `baton dags validate`, the project's own `npm test`,
 * `baton dags test`, and a run triggered on the worker `baton start` started from that folder,
 * with exact row counts. Nothing of the checkout is on the project's path.
 */
import assert from '../support/assert';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { Client, Connection, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { execFileAsync, repoRoot, tempDir } from '../support';

let root = '';
let project = '';

/** The lane's platform, without anything that points into the checkout. */
function projectEnv(): NodeJS.ProcessEnv {
  const { NODE_PATH: _p, NODE_OPTIONS: _o, BATON_PROJECT_DIR: _d, BATON_DAGS_DIR: _g, BATON_HOME: _h, BATON_DATA_DIR: _x, INIT_CWD: _i, ...rest } = process.env;
  // npm's own variables from the outer `npm test` (its prefix, its config) would point into the checkout.
  const env = Object.fromEntries(Object.entries(rest).filter(([key]) => !key.startsWith('npm_')));
  return { ...env, BATON_METRICS_PORT: 'off', BATON_CONSOLE_PORT: '0', LOG_LEVEL: 'info', BATON_TEST_SERVER: process.env.BATON_TEST_SERVER };
}

async function sh(command: string, args: string[], cwd = project, timeout = 240_000): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, env: projectEnv(), timeout, maxBuffer: 32 * 1024 * 1024 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** A command expected to fail: its output. */
async function failing(command: string, args: string[]): Promise<string> {
  try {
    await execFileAsync(command, args, { cwd: project, env: projectEnv(), timeout: 300_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  throw new Error(`${command} ${args.join(' ')} succeeded`);
}

const baton = (...args: string[]) => sh('npx', ['--no-install', 'baton', ...args]);

/**
 * What this file's DAGs leave on the dev server ends with the file (and before it, after a run
 * that died): their schedules, and their max_active_runs keepers, which live on the project's
 * task queue, whose worker goes with the project. The namespace outlives the file.
 */
async function endLeftovers(): Promise<void> {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  try {
    const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    for (const dagId of ['payments', 'team_pipelines_hello']) {
      await client.schedule
        .getHandle(dagId)
        .delete()
        .catch((err: unknown) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
      await client.workflow
        .getHandle(`baton-pool-max_active_runs:${dagId}`)
        .terminate('the package test is over')
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
    }
  } finally {
    await connection.close();
  }
}

beforeAll(async () => {
  await endLeftovers();
  root = await tempDir('baton-package-');
  assert.ok(!realpathSync(root).startsWith(realpathSync(repoRoot)), `${root} is inside the checkout`);
  await sh('npm', ['pack', '--silent', '--pack-destination', root], repoRoot);
  const [tarball] = (await sh('ls', [root], root)).split('\n').filter((f) => f.endsWith('.tgz'));
  project = path.join(root, 'team-pipelines');
  await mkdir(project);
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'team-pipelines', private: true }));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(root, tarball)]);
}, 600_000);

afterAll(async () => {
  if (project && existsSync(path.join(project, '.baton'))) await baton('stop').catch(() => undefined);
  await endLeftovers();
  if (root) await rm(root, { recursive: true, force: true });
});

test('baton init makes a project of its own, whose example DAG validates and whose own test passes', async () => {
  const out = await baton('init', '.');
  for (const file of [
    'tsconfig.json',
    'baton.config.json',
    'dags/team_pipelines_hello/dag.ts',
    'dags/team_pipelines_hello/activities.ts',
    'test/team_pipelines_hello.test.ts',
    '.gitignore',
    'README.md',
  ])
    assert.ok(out.includes(`wrote ${file}`), out);
  const pkg = JSON.parse(await readFile(path.join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.match(pkg.dependencies.baton, /^file:.*baton-\d+\.\d+\.\d+\.tgz$/);
  assert.deepEqual(JSON.parse(await readFile(path.join(project, 'baton.config.json'), 'utf8')), { dags: 'dags', taskQueue: 'team-pipelines' });
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
  // The project resolves Baton's SDK from its own node_modules, never from the checkout.
  const resolved = await sh('node', ['-p', "require.resolve('baton/package.json')"]);
  assert.equal(realpathSync(resolved.trim()), realpathSync(path.join(project, 'node_modules', 'baton', 'package.json')));
  assert.ok(!(await readFile(path.join(project, 'package-lock.json'), 'utf8')).includes(repoRoot), 'the lock file names the checkout');
  assert.equal((await baton('dags', 'validate')).trim(), 'ok team_pipelines_hello: 3 tasks');
  // tsc over the DAGs and tests, then the DAG run on the time-skipping server with its tasks faked.
  const tested = await sh('npm', ['test', '--silent']);
  assert.match(tested, /Tests:\s+1 passed, 1 total/);
});

const PAYMENTS_DAG = `import { dag, loadCsv, ownTasks } from 'baton/sdk';

const own = ownTasks<typeof import('./activities')>();

export default dag({ dagId: 'payments', schedule: '0 4 * * *', startDate: '2024-01-01' }, ({ ds }) => {
  const file = own.exportPayments('export_payments', { args: { ds } });
  const loaded = loadCsv('load_payments', {
    file: \`\${file.path}\`,
    table: 'examples.team_payments',
    mode: 'partition',
    maxRejectedRatio: 0.5,
    contract: {
      header: 'exact',
      columns: [
        { name: 'payment_id', type: 'text', maxLength: 16 },
        { name: 'amount', type: 'decimal(12,2)', rules: ['> 0'] },
        { name: 'paid_on', type: 'date', rules: ['= ds'] },
      ],
      key: { columns: ['payment_id'], keep: 'first' },
    },
  });
  return { exported: file.records, loaded: loaded.rows, rejected: loaded.rejected };
});
`;

const PAYMENTS_TASKS = `import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskContext } from 'baton/task';

/** The day's payments as the billing system exports them: 6 records, one negative, one repeated. */
export async function exportPayments({ ds }: { ds: string }, { dataPath }: TaskContext) {
  const relative = \`raw/team_payments_\${ds}.csv\`;
  await mkdir(path.dirname(dataPath(relative)), { recursive: true });
  const rows = ['p1,10.00', 'p2,20.50', 'p3,-5.00', 'p4,7.25', 'p2,99.00', 'p5,1.00'].map((r) => \`\${r},\${ds}\`);
  await writeFile(dataPath(relative), ['payment_id,amount,paid_on', ...rows].join('\\n') + '\\n');
  return { path: relative, records: rows.length };
}
`;

test("a DAG of the team's own (a task of its own, loadCsv under a contract) validates, tests and runs on the worker started from its folder", async () => {
  await mkdir(path.join(project, 'dags', 'payments'));
  await writeFile(path.join(project, 'dags', 'payments', 'dag.ts'), PAYMENTS_DAG);
  await writeFile(path.join(project, 'dags', 'payments', 'activities.ts'), PAYMENTS_TASKS);
  assert.equal((await baton('dags', 'validate')).trim(), 'ok payments: 2 tasks\nok team_pipelines_hello: 3 tasks');

  const tested = await baton('dags', 'test', 'payments', '--ds', '2024-05-06');
  assert.ok(tested.includes('load_payments success: table examples.team_payments, rows 4, rejected 2'), tested);

  const started = await baton('start');
  assert.ok(started.includes('baton: worker started on task queue team-pipelines, serving dags'), started);
  assert.ok(started.includes('baton: schedule payments (0 4 * * * UTC): created'), started);
  const run = await baton('trigger', 'payments', '--ds', '2024-05-07', '--wait', '--json');
  const { result } = JSON.parse(run.slice(run.indexOf('{'))) as { result: Record<string, unknown> & { tasks: Array<{ taskId: string; state: string }> } };
  assert.deepEqual(
    { state: result.state, exported: result.exported, loaded: result.loaded, rejected: result.rejected },
    { state: 'success', exported: 6, loaded: 4, rejected: 2 },
  );
  assert.deepEqual(
    result.tasks.map((t) => [t.taskId, t.state]),
    [
      ['export_payments', 'success'],
      ['load_payments', 'success'],
    ],
  );
  const log = await readFile(path.join(project, '.baton', 'logs', 'worker.log'), 'utf8');
  assert.ok(log.includes('"dags":["payments","team_pipelines_hello"]'), log.slice(-2000));
});

/** Waits until the worker's log says `text` after `from` characters, or fails with the log's tail. */
async function logSays(text: string, from: number, seconds = 90): Promise<string> {
  const file = path.join(project, '.baton', 'logs', 'worker.log');
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const log = (await readFile(file, 'utf8')).slice(from);
    if (log.includes(text)) return log;
    if (Date.now() > deadline) throw new Error(`the worker's log never said ${JSON.stringify(text)}:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Whether Temporal has a run with this workflow id in the lane's namespace. */
async function runExists(workflowId: string): Promise<boolean> {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  try {
    await new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }).workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  } finally {
    await connection.close();
  }
}

const logLength = async () => (await readFile(path.join(project, '.baton', 'logs', 'worker.log'), 'utf8')).length;

const LATE_DAG = (word: string) => `import { command, dag } from 'baton/sdk';

export default dag({ dagId: 'late', schedule: '@daily', startDate: '2024-01-01' }, ({ ds }) => {
  const said = command('say', { argv: ['echo', '${word}', \`\${ds}\`] });
  return { said: said.tail };
});
`;

const said = async (ds: string) => {
  const out = await baton('trigger', 'late', '--ds', ds, '--wait', '--json');
  return (JSON.parse(out.slice(out.indexOf('{'))) as { result: { said: string } }).result.said;
};

test("baton start's worker follows the DAGs folder: a new file runs, a change is served, a broken file is named while the rest run; a DAG no worker serves is refused before any run", async () => {
  let from = await logLength();
  await writeFile(path.join(project, 'dags', 'late.ts'), LATE_DAG('first'));
  await logSays('"dags":["late","payments","team_pipelines_hello"],"msg":"DAGs folder changed: serving it again"', from);
  assert.equal(await said('2024-05-06'), 'first 2024-05-06');

  from = await logLength();
  await writeFile(path.join(project, 'dags', 'late.ts'), LATE_DAG('second'));
  await logSays('"msg":"DAGs folder changed: serving it again"', from);
  assert.equal(await said('2024-05-07'), 'second 2024-05-07');

  from = await logLength();
  await writeFile(path.join(project, 'dags', 'broken.ts'), LATE_DAG('third').replace("dagId: 'late'", "dagId: 'broken'").replace('said.tail', 'said.tial'));
  const log = await logSays('a DAG file does not validate; the others are served', from);
  assert.ok(log.includes("Property 'tial' does not exist on type 'TaskOf<CommandOutput>'"), log);
  // The others are still served and triggered; the broken one is refused before any run of it exists.
  assert.equal(await said('2024-05-08'), 'second 2024-05-08');
  const refused = await failing('npx', ['--no-install', 'baton', 'trigger', 'broken', '--ds', '2024-05-08']);
  assert.ok(refused.includes('DAG "broken" does not validate:') && refused.includes("Property 'tial' does not exist"), refused);
  assert.equal(await runExists('broken-2024-05-08'), false);
  await rm(path.join(project, 'dags', 'broken.ts'));

  // With no worker at all, a trigger is refused before any run exists.
  await baton('stop');
  const none = await failing('npx', ['--no-install', 'baton', 'trigger', 'payments', '--ds', '2024-05-09']);
  assert.ok(none.includes('baton: no worker is running on task queue team-pipelines'), none);
  assert.equal(await runExists('payments-2024-05-09'), false);
  await baton('start');
});

test('a read of a field the upstream does not output is refused by tsc and baton dags validate, naming the DAG, the task and the field', async () => {
  const file = path.join(project, 'dags', 'payments', 'dag.ts');
  await writeFile(file, PAYMENTS_DAG.replace('loaded: loaded.rows', 'loaded: loaded.rowz').replace('${file.path}', '${file.paht}'));
  const tsc = await failing('npx', ['--no-install', 'tsc', '-p', '.']);
  assert.ok(tsc.includes("Property 'paht' does not exist on type 'TaskOf<{ path: string; records: number; }>'"), tsc);
  assert.ok(tsc.includes("Property 'rowz' does not exist on type 'TaskOf<LoadCsvOutput>'"), tsc);
  const validate = await failing('npx', ['--no-install', 'baton', 'dags', 'validate']);
  assert.ok(validate.includes(`invalid payments (${file}):`), validate);
  assert.ok(validate.includes("task load_payments: Property 'paht' does not exist on type 'TaskOf<{ path: string; records: number; }>'"), validate);
  assert.ok(validate.includes("Property 'rowz' does not exist on type 'TaskOf<LoadCsvOutput>'"), validate);
  // In a template string, where tsc cannot look: validate and the worker's load read the task's output type.
  await writeFile(file, PAYMENTS_DAG.replace('file: `${file.path}`', "file: '{{ xcom.export_payments.paht }}'"));
  const template = await failing('npx', ['--no-install', 'baton', 'dags', 'validate']);
  assert.ok(
    template.includes('task load_payments: {{ xcom.export_payments.paht }}: export_payments (task) has no output field paht; it has path, records'),
    template,
  );
  await writeFile(file, PAYMENTS_DAG);
});
