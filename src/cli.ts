/**
 * `baton`: the command line for Baton's DAGs. Every command validates its input before it
 * touches anything; `--json` prints machine-readable output. Exit codes: 0 done, 1 the run
 * or the operation failed, 2 bad usage or input.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CronExpressionParser } from 'cron-parser';
import { WorkflowFailedError } from '@temporalio/client';
import { connectClient } from './client';
import { loadConfig } from './config';
import { dags, findDag, type DagDefinition } from './dags';
import { parseDs } from './logical-date';
import { describeResult, triggerRun, waitForRun } from './runs';
import { syncSchedule } from './schedules';
import { intervalForFireTime } from './timetable';

function dagArg(dagId: string): DagDefinition {
  const dag = findDag(dagId);
  if (!dag) throw new InvalidArgumentError(`unknown DAG ${JSON.stringify(dagId)}; known: ${dags.map((d) => d.dagId).join(', ')}`);
  return dag;
}

function dsArg(value: string): string {
  try {
    return parseDs(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** The next `n` logical dates the DAG's schedule will run, after `from`. */
export function nextLogicalDates(dag: DagDefinition, n: number, from = new Date()): string[] {
  const start = new Date(Math.max(from.getTime(), Date.parse(`${dag.startDate}T00:00:00Z`)));
  const cron = CronExpressionParser.parse(dag.schedule, { currentDate: start, tz: dag.timezone });
  return Array.from({ length: n }, () => intervalForFireTime(dag, cron.next().toDate()).ds);
}

export function buildProgram(out: (line: string) => void = console.log): Command {
  const program = new Command('baton').description('Airflow-style data pipelines as durable Temporal workflows').exitOverride();

  const dagsCmd = program.command('dags').description('DAGs defined in code');
  dagsCmd
    .command('list')
    .description('list DAGs with their schedule, owner, tags and next logical dates')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const rows = dags.map((d) => ({
        dagId: d.dagId,
        description: d.description,
        schedule: d.schedule,
        timezone: d.timezone,
        owner: d.defaultArgs.owner,
        tags: d.tags,
        catchup: d.catchup,
        maxActiveRuns: d.maxActiveRuns,
        nextLogicalDates: nextLogicalDates(d, 3),
      }));
      if (opts.json) return out(JSON.stringify(rows, null, 2));
      for (const r of rows) {
        out(`${r.dagId}  ${r.schedule} (${r.timezone})  owner ${r.owner}  tags ${r.tags.join(',')}  max_active_runs ${r.maxActiveRuns}  catchup ${r.catchup}`);
        out(`  ${r.description}; next logical dates: ${r.nextLogicalDates.join(', ')}`);
      }
    });

  program
    .command('trigger')
    .description('start a run of a DAG for a logical date (workflow id <dag_id>-<ds>)')
    .argument('<dag>', 'DAG id', dagArg)
    .requiredOption('--ds <date>', 'logical date, YYYY-MM-DD', dsArg)
    .option('--wait', 'wait for the run to finish and print its outcome')
    .option('--json', 'print JSON')
    .action(async (dag: DagDefinition, opts: { ds: string; wait?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config);
      try {
        const run = await triggerRun(client, config, dag, opts.ds);
        if (!opts.wait) return out(opts.json ? JSON.stringify(run) : `started ${run.workflowId} (run ${run.runId})\n${run.url}`);
        const result = await waitForRun(client, run);
        if (opts.json) return out(JSON.stringify({ ...run, result }, null, 2));
        for (const line of describeResult(result)) out(line);
        out(run.url);
      } finally {
        await client.connection.close();
      }
    });

  program
    .command('schedules')
    .description('Temporal Schedules of the DAGs')
    .command('sync')
    .description('create or update one schedule per DAG from the definitions in code')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config);
      try {
        const outcomes: Record<string, string> = {};
        for (const dag of dags) outcomes[dag.dagId] = await syncSchedule(client, dag);
        if (opts.json) return out(JSON.stringify(outcomes));
        for (const [dagId, outcome] of Object.entries(outcomes)) out(`${dagId}: ${outcome}`);
      } finally {
        await client.connection.close();
      }
    });

  return program;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof WorkflowFailedError) {
      console.error(`baton: run failed: ${err.cause?.message ?? err.message}`);
      return 1;
    }
    console.error(`baton: ${(err as Error).message}`);
    return 1;
  }
}
