/**
 * `baton`: the command line for Baton's DAGs. Every command validates its input before it
 * touches anything; `--json` prints machine-readable output. Exit codes: 0 done, 1 the run
 * or the operation failed, 2 bad usage or input.
 */
import path from 'node:path';
import { Pool } from 'pg';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ScheduleNotFoundError, WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { BackfillInputError, backfillProgress, dryRun, planBackfill, progressLine, startBackfill, type BackfillRequest } from './backfill';
import { connectClient, webUiRunUrl } from './client';
import { loadConfig, loadServiceSettings, type Config } from './config';
import {
  CACHE_POLICIES,
  DEFAULT_START_DATE,
  Queries,
  TASK_QUEUE,
  type BackfillProgress,
  type CachePolicy,
  type DagRunConf,
  type RerunPolicy,
  type TaskRecord,
} from './contracts';
import { addDagCommands, DagCommandError } from './cli-dags';
import { findInCatalog, loadCatalog } from './dag-catalog';
import { dagRunWorkflowId, type DagDefinition } from './dags';
import { parseDs } from './logical-date';
import { checkConf, describeResult, listRuns, scheduleState, startRun, triggerRun, waitForRun, type DagRunResult, type StartedRun } from './runs';
import { servedWorkflowTypes } from './dag-servers';
import { syncSchedules } from './schedules';
import { InitError, initProject } from './init';
import { stopPlatform } from './platform';
import { startProject } from './start';
import { nextLogicalDates as logicalDatesAfter } from './timetable';

/** The reference pipelines and every DAG file under workflows/dags/. */
const allDags = () => loadCatalog().dags;

function dagArg(dagId: string): DagDefinition {
  const catalog = loadCatalog();
  const dag = findInCatalog(catalog, dagId);
  const broken = catalog.broken.find((b) => b.dagId === dagId);
  if (broken) throw new InvalidArgumentError(`DAG ${JSON.stringify(dagId)} does not validate: ${broken.problems.join('; ')}`);
  if (!dag)
    throw new InvalidArgumentError(
      `unknown DAG ${JSON.stringify(dagId)}; known: ${catalog.dags.map((d) => d.dagId).join(', ')}${catalog.broken.length ? ` (and ${catalog.broken.length} DAG file(s) that do not validate: \`baton dags validate\`)` : ''}`,
    );
  return dag;
}

/**
 * Refuses, before any run exists, a DAG that no live worker on its task queue serves (none runs,
 * or the one that runs has not loaded the file, or refused it): started anyway, the run would
 * fail with "no DAG file has workflow type ..." or wait for a worker.
 */
async function ensureServed(config: Config, dag: DagDefinition): Promise<void> {
  const taskQueue = dag.taskQueue ?? TASK_QUEUE;
  const pool = new Pool({ connectionString: config.databaseUrl, max: 1, connectionTimeoutMillis: 10_000 });
  let served: Set<string>;
  try {
    served = await servedWorkflowTypes(pool, config.temporal.namespace, taskQueue);
  } catch (err) {
    // No worker has ever started on this database: the table is not there yet.
    if ((err as { code?: string }).code === '42501')
      throw new Error(
        `the database role may not read baton.dag_servers, where workers say what they serve (${(err as Error).message}): apply activities/sql/worker-role.sql`,
      );
    if ((err as { code?: string }).code !== '42P01') throw err;
    served = new Set();
  } finally {
    await pool.end();
  }
  if (served.has(dag.workflowType)) return;
  throw new DagCommandError(
    served.size
      ? `no worker on task queue ${taskQueue} serves ${dag.dagId} (workflow type ${dag.workflowType}); they serve ${[...served].sort().join(', ')}. A worker that follows the DAGs folder (\`baton start\`) serves a new file once it validates: \`baton dags validate\` names its problems; a deployed worker serves it once restarted`
      : `no worker is running on task queue ${taskQueue} (namespace ${config.temporal.namespace}): start one with \`baton start\` (or \`npm run worker\`), then trigger ${dag.dagId} again`,
  );
}

/** A started run, and with --wait its outcome: the task table of whatever DAG it is. */
async function printRun(out: (line: string) => void, client: Client, run: StartedRun, opts: { wait?: boolean; json?: boolean }): Promise<void> {
  if (!opts.wait) return out(opts.json ? JSON.stringify(run) : `started ${run.workflowId} (run ${run.runId})\n${run.url}`);
  const result = await waitForRun<DagRunResult>(client, run);
  if (opts.json) return out(JSON.stringify({ ...run, result }, null, 2));
  for (const line of describeResult(result, run)) out(line);
  out(run.url);
}

function dsArgNamed(value: string, name: string): string {
  try {
    return parseDs(value, name);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

const dsArg = (value: string) => dsArgNamed(value, 'ds');

/** The next `n` logical dates the DAG's schedule will run, after `from`. */
export function nextLogicalDates(dag: DagDefinition, n: number, from = new Date()): string[] {
  return logicalDatesAfter(dag, n, from);
}

function confArg(value: string): DagRunConf {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`--conf is not JSON: ${(err as Error).message}`);
  }
  try {
    return checkConf(parsed);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function intArg(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
    return Number(value);
  };
}

/** Runs `work` with a connected client, closing it afterwards. */
async function withClient<T>(work: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    return await work(client, config);
  } finally {
    await client.connection.close();
  }
}

export function buildProgram(out: (line: string) => void = console.log): Command {
  const program = new Command('baton')
    .description('Airflow-style data pipelines as durable Temporal workflows')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  const dagsCmd = program.command('dags').description('DAGs defined in code');
  dagsCmd
    .command('list')
    .description('list DAGs: schedule, timezone, paused, next three logical dates, last run state')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withClient(async (client) => {
        const rows = [];
        for (const d of allDags()) {
          const [last] = await listRuns(client, d, 1);
          rows.push({
            dagId: d.dagId,
            description: d.description,
            schedule: d.schedule,
            timezone: d.timezone,
            timetable: d.timetable,
            schedule_state: await scheduleState(client, d),
            owner: d.defaultArgs.owner,
            tags: d.tags,
            catchup: d.catchup,
            maxActiveRuns: d.maxActiveRuns,
            dependsOnPast: d.defaultArgs.dependsOnPast,
            nextLogicalDates: nextLogicalDates(d, 3),
            lastRun: last ? { ds: last.ds, status: last.status } : null,
          });
        }
        if (opts.json) return out(JSON.stringify(rows, null, 2));
        for (const r of rows) {
          out(`${r.dagId}  ${r.schedule} ${r.timezone} (${r.timetable})  ${r.schedule_state}  owner ${r.owner}  tags ${r.tags.join(',')}`);
          out(`  max_active_runs ${r.maxActiveRuns ?? 'unlimited'}  catchup ${r.catchup}  depends_on_past ${r.dependsOnPast}`);
          out(`  next logical dates ${r.nextLogicalDates.join(', ')}  last run ${r.lastRun ? `${r.lastRun.ds} ${r.lastRun.status}` : 'none'}`);
        }
      }),
    );

  program
    .command('trigger')
    .description('start a run of a DAG for a logical date (workflow id <dag_id>-<ds>)')
    .argument('<dag>', 'DAG id', dagArg)
    .requiredOption('--ds <date>', 'logical date, YYYY-MM-DD', dsArg)
    .option('--conf <json>', "the run's conf, a JSON object (Airflow's dag_run.conf)", confArg)
    .option('--wait', 'wait for the run to finish and print its outcome')
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, opts: { ds: string; conf?: DagRunConf; wait?: boolean; json?: boolean }) =>
      withClient(async (client, config) => {
        await ensureServed(config, dag);
        const run = await triggerRun(client, config, dag, opts.ds, opts.conf);
        await printRun(out, client, run, opts);
      }),
    );

  program
    .command('run')
    .description("start a run of a DAG or flow for a date (workflow id <dag_id>-<date>), as Prefect runs a flow; with a flow's cache controls")
    .argument('<dag>', 'DAG or flow id (orders-etl, orders_daily_etl)', dagArg)
    .option('--start-date <date>', 'the day to process, YYYY-MM-DD', (v) => dsArgNamed(v, '--start-date'), DEFAULT_START_DATE)
    .option('--conf <json>', "the run's conf, a JSON object", confArg)
    .option('--refresh-cache', 'run cached tasks again and store fresh results')
    .addOption(
      new Option(
        '--cache-policy <policy>',
        "extract_data's cache key: inputs+file (inputs and the file's content) or inputs (Prefect's task_input_hash)",
      ).choices([...CACHE_POLICIES]),
    )
    .option('--wait', 'wait for the run to finish and print its outcome')
    .option('--json', 'print JSON')
    .action(
      (dag: DagDefinition, opts: { startDate: string; conf?: DagRunConf; refreshCache?: boolean; cachePolicy?: CachePolicy; wait?: boolean; json?: boolean }) =>
        withClient(async (client, config) => {
          await ensureServed(config, dag);
          const run = await startRun(client, config, dag, opts.startDate, { conf: opts.conf, refreshCache: opts.refreshCache, cachePolicy: opts.cachePolicy });
          await printRun(out, client, run, opts);
        }),
    );

  program
    .command('backfill')
    .description('run each logical date from --from to --to once, durably (resumes after a crash)')
    .argument('<dag>', 'DAG id', dagArg)
    .requiredOption('--from <date>', 'first logical date, YYYY-MM-DD', (v) => dsArgNamed(v, '--from'))
    .requiredOption('--to <date>', 'last logical date, YYYY-MM-DD', (v) => dsArgNamed(v, '--to'))
    .option('--max-active <n>', 'runs of this backfill at once (the DAG max_active_runs also applies)', intArg('--max-active'), 1)
    .addOption(new Option('--rerun <which>', 'dates that ran before: none, failed or all').choices(['none', 'failed', 'all']).default('none'))
    .option('--dry-run', 'show what would run, start nothing')
    .option('--reverse', 'newest date first')
    .option('--json', 'print JSON')
    .action(
      (dag: DagDefinition, opts: { from: string; to: string; maxActive: number; rerun: RerunPolicy; dryRun?: boolean; reverse?: boolean; json?: boolean }) => {
        const request: BackfillRequest = { from: opts.from, to: opts.to, maxActive: opts.maxActive, rerun: opts.rerun, reverse: Boolean(opts.reverse) };
        const dates = planBackfill(dag, request); // bad input is named here, before anything starts
        return withClient(async (client, config) => {
          if (opts.dryRun) {
            const plan = await dryRun(client, dag, dates, opts.rerun);
            if (opts.json) return out(JSON.stringify(plan, null, 2));
            for (const row of plan) out(`${row.ds}  ${row.action.padEnd(4)}  (${row.status.toLowerCase()})`);
            return out(`${plan.filter((r) => r.action === 'run').length} of ${plan.length} dates would run`);
          }
          const started = Date.now();
          await ensureServed(config, dag);
          const handle = await startBackfill(client, dag, request, dates);
          const tty = process.stderr.isTTY && !opts.json;
          let last: BackfillProgress | undefined;
          const timer = setInterval(async () => {
            last = (await backfillProgress(client, handle.workflowId)) ?? last;
            if (tty && last) process.stderr.write(`\r${progressLine(last)}`);
          }, 500);
          let summary: BackfillProgress;
          try {
            summary = (await client.workflow.getHandle(handle.workflowId).result()) as BackfillProgress;
          } finally {
            clearInterval(timer);
          }
          if (tty) process.stderr.write(`\r${progressLine(summary)}\n`);
          const wallSeconds = Math.round(((summary.finishedAt ?? Date.now()) - summary.startedAt) / 100) / 10;
          if (opts.json) {
            out(JSON.stringify({ workflowId: handle.workflowId, ...summary, wallSeconds }, null, 2));
          } else {
            out(
              `backfill ${dag.dagId} ${request.from}..${request.to}: ${summary.succeeded} succeeded, ${summary.failed} failed, ${summary.skipped} skipped in ${wallSeconds}s (this command ${Math.round((Date.now() - started) / 1000)}s)`,
            );
            if (summary.failedDates.length) out(`failed: ${summary.failedDates.join(', ')}`);
          }
          if (summary.failed > 0) process.exitCode = 1;
        });
      },
    );

  for (const [name, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    program
      .command(name)
      .description(paused ? "pause the DAG's schedule (runs in flight go on)" : "unpause the DAG's schedule (missed intervals run only with catchup)")
      .argument('<dag>', 'DAG id', dagArg)
      .option('--json', 'print JSON')
      .action((dag: DagDefinition, opts: { json?: boolean }) =>
        withClient(async (client) => {
          const handle = client.schedule.getHandle(dag.dagId);
          try {
            await (paused ? handle.pause(`paused with baton by ${process.env.USER ?? 'a user'}`) : handle.unpause('unpaused with baton'));
          } catch (e) {
            if (e instanceof ScheduleNotFoundError) throw new Error(`${dag.dagId} has no schedule yet: run \`baton schedules sync\``);
            throw e;
          }
          out(opts.json ? JSON.stringify({ dagId: dag.dagId, paused }) : `${dag.dagId}: ${paused ? 'paused' : 'active'}`);
        }),
      );
  }

  const runsCmd = program.command('runs').description('runs of a DAG');
  runsCmd
    .command('list')
    .description('latest runs of a DAG, newest first')
    .argument('<dag>', 'DAG id', dagArg)
    .option('--limit <n>', 'how many', intArg('--limit'), 20)
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, opts: { limit: number; json?: boolean }) =>
      withClient(async (client) => {
        const runs = await listRuns(client, dag, opts.limit);
        if (opts.json) return out(JSON.stringify(runs, null, 2));
        if (!runs.length) return out(`${dag.dagId}: no runs yet`);
        for (const r of runs) {
          out(
            `${r.ds}  ${r.status.padEnd(10)}  started ${r.startTime.slice(0, 19).replace('T', ' ')}  ${r.durationMs !== undefined ? `${(r.durationMs / 1000).toFixed(1)}s` : 'running'}  ${r.workflowId}`,
          );
        }
      }),
    );

  runsCmd
    .command('show')
    .description("a run's task table: state, start, duration and key output of each task")
    .argument('<dag>', 'DAG id', dagArg)
    .argument('<ds>', 'logical date, YYYY-MM-DD', dsArg)
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, ds: string, opts: { json?: boolean }) =>
      withClient(async (client, config) => {
        const handle = client.workflow.getHandle(dagRunWorkflowId(dag.dagId, ds));
        let description;
        try {
          description = await handle.describe();
        } catch (e) {
          if (e instanceof WorkflowNotFoundError) throw new Error(`${dag.dagId} has no run for ${ds}`);
          throw e;
        }
        const tasks = await handle.query<TaskRecord[]>(Queries.tasks);
        const url = webUiRunUrl(config, description.workflowId, description.runId);
        if (opts.json)
          return out(JSON.stringify({ workflowId: description.workflowId, runId: description.runId, status: description.status.name, url, tasks }, null, 2));
        out(`${description.workflowId}  ${description.status.name}  ${url}`);
        for (const t of tasks) {
          const duration = t.durationMs === undefined ? '' : `${(t.durationMs / 1000).toFixed(1)}s`;
          const detail = t.error
            ? `error: ${t.error}`
            : Object.entries(t.output ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(' ');
          out(`  ${t.taskId.padEnd(18)} ${t.state.padEnd(15)} ${(t.startedAt ?? '').slice(11, 19).padEnd(8)} ${duration.padStart(7)}  ${detail}`);
        }
      }),
    );

  addDagCommands(dagsCmd, out, { ds: dsArg, conf: confArg });

  program
    .command('init')
    .description('make a project of your own that depends on Baton: package.json, tsconfig, baton.config.json, dags/ with an example DAG and its test')
    .argument('<dir>', 'the project folder (made when missing)')
    .option('--baton <spec>', 'how the project depends on Baton (a version range, or file:<tarball>)')
    .action(async (dir: string, opts: { baton?: string }) => {
      const written = await initProject(dir, { batonSpec: opts.baton });
      for (const file of written) out(`wrote ${path.join(dir, file)}`);
      out(`\nNext, in ${dir}:\n  npm install\n  npx baton start\n  npm test`);
    });

  program
    .command('stop')
    .description('stop the worker, and the Temporal dev server and Postgres cluster if `baton start` started them')
    .action(async () => stopPlatform(loadServiceSettings(), (line) => out(`baton: ${line}`)));

  program
    .command('start')
    .description("start the platform (Temporal dev server, Postgres) and a worker serving this project's DAGs; sync their schedules")
    .action(async () => {
      const { client, config, catalog } = await startProject((line) => out(`baton: ${line}`));
      try {
        out(`\nWeb UI: ${config.webUiUrl}`);
        const [first] = catalog.dags;
        if (first) out(`A run: npx baton trigger ${first.dagId} --ds ${first.startDate} --wait`);
      } finally {
        await client.connection.close();
      }
    });

  program
    .command('schedules')
    .description('Temporal Schedules of the DAGs')
    .command('sync')
    .description('create or update one schedule per DAG from the definitions in code')
    .option('--prune', 'delete Baton schedules whose DAG is no longer in code')
    .option('--json', 'print JSON')
    .action((opts: { prune?: boolean; json?: boolean }) =>
      withClient(async (client) => {
        // A broken file's DAG would look gone: its schedule updated never, or deleted by --prune.
        const catalog = loadCatalog();
        if (catalog.broken.length)
          throw new DagCommandError(`no schedule synced: ${catalog.broken.map((b) => b.message).join('; ')}; \`baton dags validate\` names every problem`);
        const report = await syncSchedules(client, catalog.dags, Boolean(opts.prune));
        if (opts.json) return out(JSON.stringify(report));
        for (const [dagId, outcome] of Object.entries(report.outcomes)) out(`${dagId}: ${outcome}`);
        for (const id of report.removed) out(report.pruned ? `${id}: deleted (no DAG in code)` : `${id}: no DAG in code; --prune deletes it`);
      }),
    );

  return program;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof BackfillInputError || err instanceof DagCommandError || err instanceof InitError) {
      console.error(`baton: ${err.message}`);
      return 2;
    }
    if (err instanceof WorkflowFailedError) {
      console.error(`baton: run failed: ${err.cause?.message ?? err.message}`);
      return 1;
    }
    console.error(`baton: ${(err as Error).message}`);
    return 1;
  }
}
