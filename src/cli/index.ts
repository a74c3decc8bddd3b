/**
 * `baton`: the command line for Baton's DAGs. Every command validates its input before it
 * touches anything; `--json` prints machine-readable output. Exit codes: 0 done, 1 the run
 * or the operation failed, 2 bad usage or input.
 */
import { Command, CommanderError } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { BackfillInputError } from '../backfill';
import { InitError } from '../init';
import { ConsoleAccessError } from '../console/access';
import { listRuns, scheduleState } from '../runs';
import { formatAssetExpression } from '../sdk/assets';
import { nextLogicalDates as logicalDatesAfter } from '../timetable';
import { scheduleText, type DagDefinition } from '../dags';
import { allDags, confArg, logicalArgNamed, withClient } from './args';
import { addAssetCommands } from './assets';
import { addDagCommands, DagCommandError } from './dags';
import { addProjectCommands } from './project';
import { addRunCommands } from './runs';

/** The next `n` logical dates the DAG's schedule will run, after `from`. */
export function nextLogicalDates(dag: DagDefinition, n: number, from = new Date()): string[] {
  return logicalDatesAfter(dag, n, from);
}

export function buildProgram(out: (line: string) => void = console.log, err?: (line: string) => void): Command {
  const program = new Command('baton')
    .description('Airflow-style data pipelines as durable Temporal workflows')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  // Commander's own errors (a bad argument, an unknown option) go where the caller's errors go.
  if (err) program.configureOutput({ writeErr: (text) => err(text.replace(/\n$/, '')) });

  const dagsCmd = program.command('dags').description('DAGs defined in code');
  dagsCmd
    .command('list')
    .description('list DAGs: schedule, timezone, paused, next three logical dates, last run state')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withClient(async (client) => {
        const rows = [];
        const schedules = new Map<string, string>();
        for (const d of allDags()) {
          schedules.set(d.dagId, scheduleText(d));
          const [last] = await listRuns(client, d, 1);
          rows.push({
            dagId: d.dagId,
            description: d.description,
            schedule: d.schedule,
            ...(d.assets ? { assets: formatAssetExpression(d.assets) } : {}),
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
          out(`${r.dagId}  ${schedules.get(r.dagId)} ${r.timezone} (${r.timetable})  ${r.schedule_state}  owner ${r.owner}  tags ${r.tags.join(',')}`);
          out(`  max_active_runs ${r.maxActiveRuns ?? 'unlimited'}  catchup ${r.catchup}  depends_on_past ${r.dependsOnPast}`);
          out(`  next logical dates ${r.nextLogicalDates.join(', ')}  last run ${r.lastRun ? `${r.lastRun.ds} ${r.lastRun.status}` : 'none'}`);
        }
      }),
    );

  addRunCommands(program, out);
  addDagCommands(dagsCmd, out, { ds: (v) => logicalArgNamed(v, '--ds'), conf: confArg });
  addProjectCommands(program, out);
  addAssetCommands(program, out);
  return program;
}

/** Runs `baton` with `argv`; its output and errors go to `io` (the terminal by default). Returns the exit code. */
export async function main(argv = process.argv, io: { out?: (line: string) => void; err?: (line: string) => void } = {}): Promise<number> {
  const say = io.err ?? ((line: string) => console.error(line));
  try {
    await buildProgram(io.out, io.err).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof BackfillInputError || err instanceof DagCommandError || err instanceof InitError || err instanceof ConsoleAccessError) {
      say(`baton: ${err.message}`);
      return 2;
    }
    if (err instanceof WorkflowFailedError) {
      say(`baton: run failed: ${err.cause?.message ?? err.message}`);
      return 1;
    }
    say(`baton: ${(err as Error).message}`);
    return 1;
  }
}
