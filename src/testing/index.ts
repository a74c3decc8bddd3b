/**
 * `baton/testing`: what a project's own tests use, as Baton's tests do. `checkDagFile` checks a
 * DAG file as the worker does (tsc, settings, templates); `runDagTest` runs it on Temporal's
 * time-skipping test server (sensors, retries and delays take no wall time) with each task
 * faked by its task id, recording what each was given (a sensor finds at once, a mail is
 * logged); `replayHistories` replays recorded
 * histories (`baton dags record`) against the DAGs as they are now.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createSettingsActivities } from '../../activities/settings';
import { createTemporalActivities } from '../../activities/temporal';
import { loadServiceSettings, projectRoot } from '../config';
import { searchAttributeTypes, type AnnounceAssetsInput } from '../contracts';
import { dagFiles, DagFileError, loadDagFile, projectDirOf, typesOf, writeWorkflowsEntry } from '../dag-files';
import { operatorActivityTypes } from '../operators/activities';
import type { UserTaskInput } from '../operators/task/activity';
import { ensurePythonTools } from '../platform';
import { userActivityType, type CompiledDag } from '../sdk/compile';
import { workflowBundlerOptions } from '../worker';

export { DagFileError };

/** The DAG file `file`, checked as the worker checks it; throws DagFileError naming every problem. */
export function checkDagFile(file: string): CompiledDag {
  const dir = path.dirname(path.basename(file) === 'dag.ts' ? path.dirname(file) : file);
  const entry = dagFiles(dir).find((f) => f.file === path.resolve(file));
  if (!entry) throw new Error(`${file} is not a DAG file of ${dir} (<dag>.ts, or <dag>/dag.ts)`);
  return loadDagFile(entry, typesOf([entry], dir).get(entry.file)).dag;
}

/** A fake task: given what the task's activity would be given (an own task's args; an operator's rendered settings), returns its output. */
export type FakeTask = (input: never) => unknown;

export interface DagTestOptions {
  ds: string;
  conf?: Record<string, unknown>;
  /** Each task's fake, by task id; a task without one fails, naming itself. */
  tasks: Record<string, FakeTask>;
}

export interface DagTestResult {
  /** The run's result: its state, the task table and what the DAG's result gives. */
  result: Record<string, unknown> & { state: string; tasks: Array<{ taskId: string; state: string }> };
  /** What each faked task was given, by task id (its last try). */
  calls: Record<string, unknown>;
  /** The updates its tasks' outlets announced, in order: recorded, sent to no DAG. */
  assetUpdates: Array<{ taskId: string; asset: string; partition: string }>;
}

/** What a test run does where a task is not a call of its own: a sensor finds what it waits for at once, a mail is logged. */
const DEFAULTS = {
  checkFile: async () => ({ found: true }),
  checkSql: async () => ({ found: true }),
  pokeFile: async () => ({ found: true, timedOut: false, checks: 1 }),
  sendAlert: async () => ({ delivered: 'logged' }),
};

/** The Temporal test server: BATON_TEST_SERVER, or the one `baton start` installs in the project's .baton/venv. */
async function testServer(): Promise<string> {
  if (process.env.BATON_TEST_SERVER) return process.env.BATON_TEST_SERVER;
  const settings = loadServiceSettings();
  await ensurePythonTools(settings, (line) => console.error(`baton: ${line}`));
  return path.join(settings.venv, 'bin', 'temporal-test-server');
}

/** Runs the DAG of `file` once for `ds` on the time-skipping test server, every task faked. */
export async function runDagTest(file: string, options: DagTestOptions): Promise<DagTestResult> {
  const dag = checkDagFile(file);
  const dir = path.dirname(path.basename(file) === 'dag.ts' ? path.dirname(file) : file);
  const calls: Record<string, unknown> = {};
  const assetUpdates: DagTestResult['assetUpdates'] = [];
  const fake = (input: UserTaskInput & Record<string, unknown>, given: unknown) => {
    const task = options.tasks[input.taskId];
    if (!task) throw new Error(`task ${input.taskId} has no fake: give it in runDagTest's tasks`);
    calls[input.taskId] = given;
    return (task as (input: unknown) => unknown)(given);
  };
  const activities: Record<string, (input: never) => Promise<unknown>> = {
    ...DEFAULTS,
    announceAssetUpdates: async (input: never) => {
      const { taskId, partition, assets } = input as AnnounceAssetsInput;
      for (const asset of assets) assetUpdates.push({ taskId, asset, partition });
      return { announced: [] };
    },
  };
  // Each task of an operator calls its operator's activity with its rendered settings.
  for (const name of operatorActivityTypes()) {
    activities[name] = async (input: never) => {
      const { dagId: _d, taskId: _t, ds: _s, attempt: _a, ...settings } = input as UserTaskInput & Record<string, unknown>;
      return fake(input, settings);
    };
  }
  for (const task of dag.tasks) {
    if (task.definition.operator === 'task')
      activities[userActivityType(dag.dagId, task.definition.activity)] = async (input: never) => fake(input, (input as UserTaskInput).args);
  }
  const server = await testServer();
  if (!Runtime._instance) Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: server } } });
  try {
    // The search attributes every run labels itself with, as the dev server's set-up registers them.
    await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes: searchAttributeTypes() });
    // The run's own machinery, as on a worker: its settings and its max_active_runs slot.
    Object.assign(
      activities,
      createSettingsActivities({ config: { retry: {}, dbt: { projectDir: '', bin: '', target: 'dev' }, sensors: {} } }),
      createTemporalActivities({ client: env.client, logger: pino({ level: 'silent' }) }),
    );
    const taskQueue = `test-${dag.dagId}`;
    const entry = await testEntry(path.resolve(file), path.join(projectDirOf(dir), '.baton', 'generated'));
    const { code } = await bundleWorkflowCode({ workflowsPath: entry, ...workflowBundlerOptions, logger: new DefaultLogger('WARN') });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { code }, activities });
    const result = await worker
      .runUntil(
        env.client.workflow.execute(dag.workflowType, {
          taskQueue,
          workflowId: `${dag.dagId}-${options.ds}-test`,
          args: [{ ds: options.ds, ...(options.conf ? { conf: options.conf } : {}) }],
        }),
      )
      .catch((err: unknown) => {
        // The run's own account of what failed, rather than the client's "Workflow execution failed".
        if (err instanceof WorkflowFailedError) throw new Error(`${dag.dagId} ${options.ds} failed: ${err.cause?.message ?? err.message}`);
        throw err;
      });
    return { result: result as DagTestResult['result'], calls, assetUpdates };
  } finally {
    await env.teardown();
  }
}

/**
 * The bundle's entry for one DAG under test: Baton's workflows and the DAG, its runs taking no
 * max_active_runs slot (a test run has no other runs to wait for).
 */
async function testEntry(file: string, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const rel = (target: string) =>
    JSON.stringify(
      path
        .relative(outDir, target)
        .split(path.sep)
        .join('/')
        .replace(/^(?!\.)/, './'),
    );
  const entry = path.join(outDir, `test-${path.basename(path.dirname(file))}-${path.basename(file, '.ts')}.ts`);
  const registry = path.join(projectRoot, 'workflows', 'dag-registry');
  await writeFile(
    entry,
    [
      '// Generated by baton/testing for one DAG under test: do not edit.',
      `export * from ${rel(path.join(projectRoot, 'workflows', 'index'))};`,
      `import { registerDagFiles } from ${rel(registry)};`,
      `import dag from ${rel(file.replace(/\.ts$/, ''))};`,
      'registerDagFiles([{ ...dag, maxActiveRuns: null }]);',
      `export { dagFileWorkflow as default } from ${rel(registry)};`,
      '',
    ].join('\n'),
  );
  return entry;
}

/**
 * Replays every history in `dir` (`<workflowType>-<scenario>-v<N>.json`, as `baton dags record`
 * saves them) against the DAGs of `dagsDir` as they are now, and returns the files replayed. The
 * first that does not replay is thrown as Temporal's error (a DeterminismViolationError for a
 * change that would break the runs in flight), its message starting with the file's name.
 */
export async function replayHistories(dir: string, dagsDir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (!files.length) return [];
  const entry = writeWorkflowsEntry(dagsDir, path.join(projectDirOf(dagsDir), '.baton', 'generated'));
  const { code } = await bundleWorkflowCode({ workflowsPath: entry, ...workflowBundlerOptions, logger: new DefaultLogger('WARN') });
  for (const f of files) {
    const history = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Parameters<typeof Worker.runReplayHistory>[1];
    try {
      await Worker.runReplayHistory({ workflowBundle: { code } }, history, f);
    } catch (err) {
      if (err instanceof Error) err.message = `${f} does not replay against ${dagsDir}: ${err.message}`;
      throw err;
    }
  }
  return files;
}
