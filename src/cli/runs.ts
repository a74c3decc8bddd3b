/**
 * `baton trigger`, `run`, `backfill`, `pause`/`unpause` and `runs`: starting and reading a DAG's
 * runs. A run is refused before it exists when its params are bad or no worker serves its DAG.
 */
import { Option, type Command } from 'commander';
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { backfillProgress, dryRun, planBackfill, progressLine, startBackfill, type BackfillRequest } from '../backfill';
import { webUiRunUrl } from '../client';
import type { Config } from '../config';
import { Queries, type BackfillProgress, type DagRunConf, type RerunPolicy, type TaskRecord } from '../contracts';
import { notServed, paramProblems } from '../run-checks';
import { dagRunWorkflowId, type DagDefinition } from '../dags';
import { describeResult, listRuns, triggerRun, waitForRun, type DagRunResult, type StartedRun } from '../runs';
import { instanceRecords, taskTableLines } from '../task-lines';
import type { MappedBatchResult } from '../mapping';
import { isSubDaily, keysBetween } from '../timetable';
import { confArg, dagArg, dsArg, dsArgNamed, intArg, logicalArgNamed, runKey, tsArg, withClient } from './args';
import { DagCommandError } from './dags';
import { addApprovalCommands, addGridCommand, addOperateCommands } from './operate';

/** The checks before a run starts, as exit-code-2 errors: bad params, or no worker that serves the DAG. */
function checkParams(dag: DagDefinition, conf: DagRunConf = {}): void {
  const problems = paramProblems(dag, conf);
  if (problems.length) throw new DagCommandError(`${dag.dagId}: bad params, nothing was started: ${problems.join('; ')}`);
}

async function ensureServed(config: Config, dag: DagDefinition): Promise<void> {
  const refusal = await notServed(config, dag);
  if (refusal) throw new DagCommandError(refusal);
}

/** A started run, and with --wait its outcome: the task table of whatever DAG it is. */
async function printRun(out: (line: string) => void, client: Client, run: StartedRun, opts: { wait?: boolean; json?: boolean }): Promise<void> {
  if (!opts.wait) return out(opts.json ? JSON.stringify(run) : `started ${run.workflowId} (run ${run.runId})\n${run.url}`);
  const result = await waitForRun<DagRunResult>(client, run);
  if (opts.json) return out(JSON.stringify({ ...run, result }, null, 2));
  for (const line of describeResult(result, run)) out(line);
  out(run.url);
}

/** A task's record, or a mapped task's instances (each batch's last outcome, read from its workflow). */
async function withInstances(client: Client, task: TaskRecord): Promise<TaskRecord[]> {
  if (!task.mapped) return [task];
  const results = await Promise.all(task.mapped.batches.map((id) => client.workflow.getHandle(id).result() as Promise<MappedBatchResult>));
  const instances = instanceRecords(
    task.taskId,
    results.flatMap((r) => r.instances),
  );
  // A task that failed with none of its instances failed says why on its own line.
  return task.state === 'failed' && task.mapped.failed === 0 ? [task, ...instances] : instances;
}

/** The run for a day: its ds, or a sub-daily DAG's first interval that day. */
const firstRunOn = (dag: DagDefinition, ds: string) => (isSubDaily(dag) ? (keysBetween(dag, ds, ds)[0] ?? ds) : ds);

export function addRunCommands(program: Command, out: (line: string) => void): void {
  /** Starts the DAG's run for ds once its params check and a worker serves it; with --wait, prints its outcome. */
  const startChecked = (dag: DagDefinition, ds: string, conf: DagRunConf | undefined, opts: { wait?: boolean; json?: boolean }) =>
    withClient(async (client, config) => {
      checkParams(dag, conf);
      await ensureServed(config, dag);
      await printRun(out, client, await triggerRun(client, config, dag, ds, conf), opts);
    });

  program
    .command('trigger')
    .description('start a run of a DAG for a logical date (workflow id <dag_id>-<ds>; <dag_id>-<ts> for a DAG that runs more than daily)')
    .argument('<dag>', 'DAG id', dagArg)
    .option('--ds <date>', 'logical date, YYYY-MM-DD', dsArg)
    .option('--ts <timestamp>', "a sub-daily DAG's logical timestamp, with its offset (2024-01-15T13:00:00+00:00)", tsArg)
    .option('--conf <json>', "the run's conf, a JSON object (Airflow's dag_run.conf)", confArg)
    .option('--wait', 'wait for the run to finish and print its outcome')
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, opts: { ds?: string; ts?: string; conf?: DagRunConf; wait?: boolean; json?: boolean }) =>
      startChecked(dag, runKey(dag, opts), opts.conf, opts),
    );

  program
    .command('run')
    .description('start a run of a DAG for a date (workflow id <dag_id>-<date>), as Prefect runs a flow; by default its start date')
    .argument('<dag>', 'DAG id', dagArg)
    .option('--start-date <date>', "the day to process, YYYY-MM-DD (the DAG's start date by default)", (v) => dsArgNamed(v, '--start-date'))
    .option('--conf <json>', "the run's conf, a JSON object", confArg)
    .option('--refresh-cache', 'run cached tasks again and store fresh results (conf refresh_cache)')
    .option('--wait', 'wait for the run to finish and print its outcome')
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, opts: { startDate?: string; conf?: DagRunConf; refreshCache?: boolean; wait?: boolean; json?: boolean }) =>
      startChecked(dag, firstRunOn(dag, opts.startDate ?? dag.startDate), opts.refreshCache ? { ...opts.conf, refresh_cache: true } : opts.conf, opts),
    );

  program
    .command('backfill')
    .description('run each logical date from --from to --to once, durably (resumes after a crash)')
    .argument('<dag>', 'DAG id', dagArg)
    .requiredOption('--from <date>', 'first logical date, YYYY-MM-DD (or a timestamp, for a sub-daily DAG)', (v) => logicalArgNamed(v, '--from'))
    .requiredOption('--to <date>', 'last logical date, YYYY-MM-DD (or a timestamp, for a sub-daily DAG)', (v) => logicalArgNamed(v, '--to'))
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
          // One progress query at a time, and none left when the connection closes: a query the
          // client is retrying (a busy server) would otherwise retry on a closed channel, and
          // throw outside any promise.
          let asking: Promise<void> | undefined;
          const timer = setInterval(() => {
            asking ??= backfillProgress(client, handle.workflowId)
              .then((progress) => {
                last = progress ?? last;
                if (tty && last) process.stderr.write(`\r${progressLine(last)}`);
              })
              .finally(() => (asking = undefined));
          }, 500);
          let summary: BackfillProgress;
          try {
            summary = (await client.workflow.getHandle(handle.workflowId).result()) as BackfillProgress;
          } finally {
            clearInterval(timer);
            await asking;
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
            if (e instanceof ScheduleNotFoundError && dag.schedule === null)
              throw new Error(`${dag.dagId} is scheduled on assets alone: it has no schedule to ${name}; updates of its assets start its runs`);
            if (e instanceof ScheduleNotFoundError) throw new Error(`${dag.dagId} has no schedule yet: run \`baton schedules sync\``);
            throw e;
          }
          out(opts.json ? JSON.stringify({ dagId: dag.dagId, paused }) : `${dag.dagId}: ${paused ? 'paused' : 'active'}`);
        }),
      );
  }

  const runsCmd = program.command('runs').description('runs of a DAG');
  addOperateCommands(runsCmd, out);
  addApprovalCommands(runsCmd, out);
  addGridCommand(runsCmd, out);
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
    .description("a run's task table: state, start, duration and key output of each task; a group's tasks on one line, counted by state")
    .argument('<dag>', 'DAG id', dagArg)
    .argument('<ds>', 'logical date, YYYY-MM-DD (a sub-daily DAG: its ts, 2024-01-15T13:00:00+00:00)', (v) => logicalArgNamed(v, 'ds'))
    .option('--all', 'each task of a group on a line of its own')
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, given: string, opts: { all?: boolean; json?: boolean }) =>
      withClient(async (client, config) => {
        const ds = runKey(dag, { ds: given });
        const handle = client.workflow.getHandle(dagRunWorkflowId(dag.dagId, ds));
        let description;
        try {
          description = await handle.describe();
        } catch (e) {
          if (e instanceof WorkflowNotFoundError) throw new Error(`${dag.dagId} has no run for ${ds}`);
          throw e;
        }
        let tasks = await handle.query<TaskRecord[]>(Queries.tasks);
        // --all: each instance of a mapped task, from its batches.
        if (opts.all) tasks = (await Promise.all(tasks.map((t) => withInstances(client, t)))).flat();
        const url = webUiRunUrl(config, description.workflowId, description.runId);
        if (opts.json)
          return out(JSON.stringify({ workflowId: description.workflowId, runId: description.runId, status: description.status.name, url, tasks }, null, 2));
        out(`${description.workflowId}  ${description.status.name}  ${url}`);
        for (const line of taskTableLines(tasks, { all: opts.all })) out(line);
      }),
    );
}
