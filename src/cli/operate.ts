/**
 * `baton runs clear | mark | cancel | rerun`: operating a DAG's runs. Each says what it will do
 * before it acts, and records who asked and why (`--reason`) in the run's history.
 */
import type { Command } from 'commander';
import { namedTasks, type GraphTask } from '../clear';
import { MARKABLE_STATES, MAX_REASON_CHARS, type MarkableState, type Operator } from '../contracts';
import { loadCatalog } from '../dag-catalog';
import type { DagDefinition } from '../dags';
import { BackfillInputError, planBackfill } from '../backfill';
import { answerApproval, cancelRun, clearRuns, currentOperator, markTask, planClears, rerunRun, type ClearTarget } from '../run-operations';
import { dagArg, dsArg, intArg as intArgNamed, logicalArgNamed, runKey, tsArg, withClient } from './args';
import { gridLines, readGrid } from '../grid';
import { checkOperator } from '../approvals';
import { DagCommandError } from './dags';

/** The DAG file's graph as it is now (its tasks and their upstream); a DAG written as a workflow has none to clear. */
function graphOf(dag: DagDefinition): GraphTask[] {
  const file = loadCatalog().files.find((f) => f.dag.dagId === dag.dagId);
  if (!file) throw new DagCommandError(`${dag.dagId} is a workflow of its own, not a DAG file: its runs are run again whole with \`baton trigger\``);
  return file.dag.tasks.map((t) => ({ taskId: t.taskId, upstream: [...t.upstream] }));
}

/** The runs a command names: `--ds`/`--ts`, or every run key from `--from` to `--to`. */
function runKeys(dag: DagDefinition, opts: { ds?: string; ts?: string; from?: string; to?: string }): string[] {
  if (opts.from !== undefined || opts.to !== undefined) {
    if (opts.from === undefined || opts.to === undefined) throw new DagCommandError('give both --from and --to');
    if (opts.ds !== undefined || opts.ts !== undefined) throw new DagCommandError('give --ds (or --ts), or --from and --to, not both');
    try {
      return planBackfill(dag, { from: opts.from, to: opts.to, maxActive: 1, rerun: 'none', reverse: false });
    } catch (err) {
      if (err instanceof BackfillInputError) throw new DagCommandError(err.message);
      throw err;
    }
  }
  try {
    return [runKey(dag, opts)];
  } catch (err) {
    throw new DagCommandError((err as Error).message);
  }
}

/** Who asks (BATON_USER, else the login) and why, checked before anything is read or sent: both are kept in the run's history. */
function operatorOf(opts: { reason?: string }): Operator {
  if (opts.reason !== undefined && opts.reason.length > MAX_REASON_CHARS)
    throw new DagCommandError(`--reason is ${opts.reason.length} characters, more than the ${MAX_REASON_CHARS} a run's history keeps of one`);
  try {
    const operator = { by: currentOperator(), ...(opts.reason ? { reason: opts.reason } : {}) };
    checkOperator(operator);
    return operator;
  } catch (err) {
    throw new DagCommandError((err as Error).message);
  }
}

function mapIndexArg(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p)))
    throw new DagCommandError(`--map-index takes instance indexes, 3 or 0,4,7; got ${JSON.stringify(value)}`);
  return parts.map(Number);
}

/** One line per run: what runs again and what is kept, or why it is left alone. */
function planLines(targets: readonly ClearTarget[]): string[] {
  return targets.map((t) => {
    if (t.refused) return `${t.workflowId}: left alone: ${t.refused}`;
    const plan = t.plan!;
    const instances = Object.entries(plan.instances ?? {}).map(([id, which]) => `${id}[${which === 'failed' ? 'failed instances' : which.join(',')}]`);
    const kept = plan.kept.map((k) => `${k.taskId} ${k.state}`);
    return `${t.workflowId} (${t.status.toLowerCase()}): runs again ${plan.rerun.join(', ')}${instances.length ? ` (only ${instances.join(', ')})` : ''}; keeps ${kept.length ? kept.join(', ') : 'nothing'}`;
  });
}

const runOptions = (cmd: Command) =>
  cmd
    .argument('<dag>', 'DAG id', dagArg)
    .option('--ds <date>', 'the run of this logical date, YYYY-MM-DD', dsArg)
    .option('--ts <timestamp>', "a sub-daily DAG's run, by its logical timestamp", tsArg)
    .option('--reason <text>', 'why: kept in the run history with who asked');

export function addOperateCommands(runsCmd: Command, out: (line: string) => void): void {
  runOptions(
    runsCmd
      .command('clear')
      .description(
        'run tasks of finished runs again, keeping what ran before them (their outputs too): one run (--ds/--ts) or every run from --from to --to; says which tasks run again before it acts',
      ),
  )
    .option('--from <date>', 'first logical date (or timestamp) of a range of runs', (v) => logicalArgNamed(v, '--from'))
    .option('--to <date>', 'last logical date (or timestamp) of a range of runs', (v) => logicalArgNamed(v, '--to'))
    .option('--task <task_id>', 'the task (or group) to run again; every task without it')
    .option('--downstream', 'and every task that depends on it')
    .option('--upstream', 'and every task it depends on')
    .option('--failed-only', 'only those that failed or did not run for a failure (a mapped task: its failed instances)')
    .option('--map-index <indexes>', "a mapped task's instances to run again, 3 or 0,4,7 (the others that succeeded keep their outcome)", mapIndexArg)
    .option('--dry-run', 'say what would run again, change nothing')
    .option('--json', 'print JSON')
    .action(
      (
        dag: DagDefinition,
        opts: {
          ds?: string;
          ts?: string;
          from?: string;
          to?: string;
          task?: string;
          downstream?: boolean;
          upstream?: boolean;
          failedOnly?: boolean;
          mapIndex?: number[];
          dryRun?: boolean;
          reason?: string;
          json?: boolean;
        },
      ) => {
        // Bad input is named before anything is read or started.
        const graph = graphOf(dag);
        const keys = runKeys(dag, opts);
        if (keys.length > 1_000) throw new DagCommandError(`${keys.length} runs is more than one clear takes (1000); split the range`);
        if (opts.task !== undefined) {
          try {
            namedTasks(graph, opts.task);
          } catch (err) {
            throw new DagCommandError(`${dag.dagId}: ${(err as Error).message}`);
          }
        }
        if (opts.mapIndex && opts.task === undefined) throw new DagCommandError('--map-index needs --task naming a mapped task');
        const operator = operatorOf(opts);
        const selection = {
          ...(opts.task !== undefined ? { task: opts.task } : {}),
          downstream: Boolean(opts.downstream),
          upstream: Boolean(opts.upstream),
          failedOnly: Boolean(opts.failedOnly),
          ...(opts.mapIndex ? { mapIndexes: opts.mapIndex } : {}),
        };
        return withClient(async (client, config) => {
          let targets: ClearTarget[];
          try {
            targets = await planClears(client, dag, graph, keys, selection);
          } catch (err) {
            if (err instanceof Error && /--map-index|mapped task/.test(err.message)) throw new DagCommandError(err.message);
            throw err;
          }
          const clearable = targets.filter((t) => !t.refused);
          if (opts.dryRun) {
            if (opts.json) return out(JSON.stringify({ dryRun: true, runs: targets }, null, 2));
            for (const line of planLines(targets)) out(line);
            return out(`dry run: ${clearable.length} of ${targets.length} runs would be cleared; nothing was changed`);
          }
          if (!opts.json) for (const line of planLines(targets)) out(line);
          const failures: Array<{ workflowId: string; error: string }> = [];
          const started = await clearRuns(client, config, dag, targets, operator, failures);
          if (failures.length || !started.length) process.exitCode = 1;
          if (opts.json) return out(JSON.stringify({ runs: targets, started, failures }, null, 2));
          for (const run of started) out(`cleared ${run.workflowId}: run ${run.runId} ${run.url}`);
          for (const f of failures) out(`${f.workflowId}: not cleared: ${f.error}`);
          out(`${started.length} of ${targets.length} runs cleared`);
        });
      },
    );

  runOptions(
    runsCmd
      .command('mark')
      .description(
        "set a task's state by hand (Airflow's mark success): in a running run at once; a finished run continues with it set, running what had not run",
      ),
  )
    .requiredOption('--task <task_id>', 'the task')
    .argument('<state>', `the state: ${MARKABLE_STATES.join(', ')}`, (v: string) => {
      if (!(MARKABLE_STATES as readonly string[]).includes(v))
        throw new DagCommandError(`a task is marked ${MARKABLE_STATES.join(', ')}, not ${JSON.stringify(v)}`);
      return v as MarkableState;
    })
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, state: MarkableState, opts: { ds?: string; ts?: string; task: string; reason?: string; json?: boolean }) => {
      const graph = graphOf(dag);
      const [key] = runKeys(dag, opts);
      if (!graph.some((t) => t.taskId === opts.task))
        throw new DagCommandError(`no task ${JSON.stringify(opts.task)} in ${dag.dagId}; its tasks are ${graph.map((t) => t.taskId).join(', ')}`);
      const operator = operatorOf(opts);
      return withClient(async (client, config) => {
        const outcome = await markTask(client, config, dag, graph, key, opts.task, state, operator);
        if (opts.json) return out(JSON.stringify(outcome, null, 2));
        if (outcome.kind === 'updated') return out(`${outcome.workflowId}: ${outcome.state} (marked in the running run ${outcome.runId})`);
        out(
          `${outcome.run.workflowId}: ${opts.task} marked ${state}; the run continues (run ${outcome.run.runId}), running ${outcome.rerun.length ? outcome.rerun.join(', ') : 'nothing again'}`,
        );
        out(outcome.run.url);
      });
    });

  runOptions(runsCmd.command('cancel').description('cancel a running run: its running tasks are cancelled and it ends cancelled'))
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, opts: { ds?: string; ts?: string; reason?: string; json?: boolean }) => {
      const [key] = runKeys(dag, opts);
      const operator = operatorOf(opts);
      return withClient(async (client) => {
        const at = await cancelRun(client, dag, key, operator);
        out(opts.json ? JSON.stringify({ ...at, cancelRequested: true }) : `${at.workflowId}: cancel requested (run ${at.runId})`);
      });
    });

  runOptions(runsCmd.command('rerun').description('run a finished run again whole, with the conf it had'))
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, opts: { ds?: string; ts?: string; reason?: string; json?: boolean }) => {
      const graph = graphOf(dag);
      const [key] = runKeys(dag, opts);
      const operator = operatorOf(opts);
      return withClient(async (client, config) => {
        const run = await rerunRun(client, config, dag, graph, key, operator);
        out(opts.json ? JSON.stringify(run) : `${run.workflowId}: running again whole (run ${run.runId})\n${run.url}`);
      });
    });
}

/** `baton runs approve | reject`: answer an approval task of a running run. */
export function addApprovalCommands(runsCmd: Command, out: (line: string) => void): void {
  for (const decision of ['approve', 'reject'] as const) {
    const cmd = runOptions(
      runsCmd
        .command(decision)
        .description(
          decision === 'approve'
            ? 'approve an approval task that waits (with --choose for a branch choice, --value for a typed value)'
            : 'reject an approval task that waits: what follows it directly is skipped',
        ),
    ).requiredOption('--task <task_id>', 'the approval task');
    if (decision === 'approve')
      cmd
        .option('--choose <task_ids>', 'the options chosen, comma-separated (a branch choice)', (v) => v.split(',').map((s) => s.trim()))
        .option('--value <json>', 'the value entered, JSON (checked against the task schema)', (v) => {
          try {
            return JSON.parse(v) as unknown;
          } catch (err) {
            throw new DagCommandError(`--value is not JSON: ${(err as Error).message}`);
          }
        });
    cmd.action((dag: DagDefinition, opts: { ds?: string; ts?: string; task: string; choose?: string[]; value?: unknown; reason?: string }) => {
      const [key] = runKeys(dag, opts);
      const graph = graphOf(dag);
      if (!graph.some((t) => t.taskId === opts.task))
        throw new DagCommandError(`no task ${JSON.stringify(opts.task)} in ${dag.dagId}; its tasks are ${graph.map((t) => t.taskId).join(', ')}`);
      const operator = operatorOf(opts);
      return withClient(async (client) => {
        const said = await answerApproval(client, dag, key, {
          taskId: opts.task,
          decision,
          ...operator,
          ...(opts.choose ? { choose: opts.choose } : {}),
          ...(opts.value !== undefined ? { value: opts.value } : {}),
        });
        out(said);
      });
    });
  }
}

/** `baton runs grid`: the DAG's latest runs as Airflow's grid view. */
export function addGridCommand(runsCmd: Command, out: (line: string) => void): void {
  runsCmd
    .command('grid')
    .description("Airflow's grid view: the latest runs as columns (oldest first), tasks as rows, each cell the task's state; failed cells' errors below")
    .argument('<dag>', 'DAG id', dagArg)
    .option('--last <n>', 'how many runs', intArgNamed('--last'), 14)
    .option('--json', 'print JSON')
    .action((dag: DagDefinition, opts: { last: number; json?: boolean }) => {
      if (opts.last < 1 || opts.last > 100) throw new DagCommandError(`--last takes 1 to 100 runs, got ${opts.last}`);
      const file = loadCatalog().files.find((f) => f.dag.dagId === dag.dagId);
      const taskIds = file ? file.dag.order.slice() : [];
      return withClient(async (client) => {
        const runs = await readGrid(client, dag, opts.last);
        if (opts.json)
          return out(
            JSON.stringify(
              {
                dagId: dag.dagId,
                runs: runs.map((r) => ({ key: r.key, workflowId: r.workflowId, status: r.status, tasks: r.tasks ?? null })),
              },
              null,
              2,
            ),
          );
        const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
        for (const line of gridLines(dag.dagId, runs, taskIds, { colour })) out(line);
      });
    });
}
