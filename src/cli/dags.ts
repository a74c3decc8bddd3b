/**
 * `baton dags validate | show | test`: a DAG file checked, drawn and run once, Airflow's
 * `dags test` on Baton's platform. Nothing is created by validate or show; test runs one run on a
 * worker of its own (its own task queue), printing the task table as it changes.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Command } from 'commander';
import { connectClient } from '../client';
import { loadConfig, projectRoot } from '../config';
import { defaultDagsDir, dagFiles, DagFileError, loadDagFile, loadUserActivities, typesOf, type LoadedDag } from '../dag-files';
import { dagRunWorkflowId, scheduleText, type DagDefinition } from '../dags';
import { validateDag } from '../dag-validation';
import { loadCatalog, findInCatalog } from '../dag-catalog';
import { checkProjectAssets } from '../assets';
import { createLogger } from '../logging';
import { describeResult, triggerRun, type DagRunResult } from '../runs';
import type { CompiledDag, CompiledTask } from '../sdk/compile';
import type { WaitForDagTask } from '../operators/wait-for-dag/definition';
import { createWorker } from '../worker';
import { Queries, type DagRunConf, type TaskRecord } from '../contracts';

/** Exit code 2 and the reason: what `dags validate` and `dags show` report for a DAG that is not right. */
export class DagCommandError extends Error {
  override name = 'DagCommandError';
}

interface Checked {
  dagId?: string;
  where: string;
  tasks?: number;
  problems: string[];
  /** What may be right but is worth a look (an asset no DAG of the project updates): shown, not failed. */
  warnings: string[];
  loaded?: LoadedDag;
}

/** Every DAG checked on its own, so one broken file never hides another's problems. */
export function checkDags(dir = defaultDagsDir()): Checked[] {
  const checked: Checked[] = [];
  const files = dagFiles(dir);
  const types = typesOf(files, dir);
  for (const entry of files) {
    const where = entry.file;
    try {
      const loaded = loadDagFile(entry, types.get(entry.file));
      validateDag(loaded.dag.definition);
      loadUserActivities(loaded);
      checked.push({ dagId: loaded.dag.dagId, where, tasks: loaded.dag.tasks.length, problems: [], warnings: [], loaded });
    } catch (err) {
      const problems = err instanceof DagFileError ? err.problems : [(err as Error).message];
      checked.push({ ...(err instanceof DagFileError && err.dagId ? { dagId: err.dagId } : {}), where, problems, warnings: [] });
    }
  }
  // One dag_id per DAG, as the worker and the catalog insist (loadDags, loadCatalog).
  for (const [i, c] of checked.entries()) {
    const first = checked.findIndex((o) => o.dagId !== undefined && o.dagId === c.dagId);
    if (first < i) {
      const other = checked[first].where;
      c.problems.push(`its dag_id is also ${path.isAbsolute(other) ? path.relative(projectRoot, other) : other}'s`);
    }
  }
  // A triggerDag starts, and a waitForDag waits for, a DAG of this project: one that is not here would fail every run.
  const dagIds = new Set(checked.flatMap((c) => (c.dagId ? [c.dagId] : [])));
  for (const c of checked) {
    for (const task of c.loaded?.dag.tasks ?? []) {
      const definition = task.definition;
      if ((definition.operator === 'triggerDag' || definition.operator === 'waitForDag') && !dagIds.has(definition.dag))
        c.problems.push(
          `task ${task.taskId}: ${definition.operator}'s dag ${JSON.stringify(definition.dag)} is no DAG of this project (${[...dagIds].join(', ')})`,
        );
      if (definition.operator === 'waitForDag') c.problems.push(...waitForDagProblems(task.taskId, definition, c.dagId, checked));
    }
  }
  // Assets tie DAGs together: a producer whose updates cannot start its consumer, DAGs starting each other.
  const loaded = checked.flatMap((c) => (c.loaded ? [{ c, dag: c.loaded.dag }] : []));
  const findings = checkProjectAssets(loaded);
  for (const { c, dag } of loaded) {
    c.problems.push(...findings.get(dag.dagId)!.problems);
    c.warnings.push(...findings.get(dag.dagId)!.warnings);
  }
  return checked;
}

/** A waitForDag's task that its DAG file does not have, and a wait for the DAG's own run of the same date. */
function waitForDagProblems(taskId: string, definition: WaitForDagTask, dagId: string | undefined, checked: readonly Checked[]): string[] {
  const problems: string[] = [];
  const other = checked.find((o) => o.dagId === definition.dag)?.loaded?.dag;
  if (definition.task !== undefined && other && !other.tasks.some((t) => t.taskId === definition.task))
    problems.push(
      `task ${taskId}: waitForDag's task ${JSON.stringify(definition.task)} is no task of ${other.dagId} (${other.tasks.map((t) => t.taskId).join(', ')})`,
    );
  const shifted = (definition.shift?.days ?? 0) * 24 + (definition.shift?.hours ?? 0) !== 0;
  if (definition.dag === dagId && definition.ds === undefined && !shifted)
    problems.push(`task ${taskId}: waitForDag waits for its own run (${dagId}, the same ds); give another ds or a shift, or make the task upstream`);
  return problems;
}

function compiledOf(dagId: string): CompiledDag {
  const found = checkDags().find((c) => c.dagId === dagId);
  if (!found) throw new DagCommandError(`no DAG ${JSON.stringify(dagId)}: not in src/dags.ts or workflows/dags/`);
  if (found.problems.length) throw new DagCommandError(`DAG ${dagId} is invalid: ${found.problems.join('; ')}`);
  if (!found.loaded)
    throw new DagCommandError(`${dagId} is a reference pipeline written as a workflow (src/dags.ts), not a DAG file: its graph is in its workflow`);
  return found.loaded.dag;
}

/** The graph as text, Mermaid or Graphviz DOT. */
export function drawDag(dag: CompiledDag, format: 'text' | 'mermaid' | 'dot'): string[] {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const ordered = dag.order.map((id) => byId.get(id)!);
  const rule = (t: (typeof ordered)[number]) => (t.teardown ? 'teardown' : t.triggerRule === 'all_success' ? '' : t.triggerRule);
  if (format === 'mermaid') {
    return [
      'flowchart LR',
      ...ordered.map((t) => `  ${t.taskId}["${t.taskId}<br/>${t.definition.operator}${rule(t) ? ` (${rule(t)})` : ''}"]`),
      ...ordered.flatMap((t) => t.upstream.map((u) => `  ${u} ${t.teardown ? '-.->' : '-->'} ${t.taskId}`)),
    ];
  }
  if (format === 'dot') {
    return [
      `digraph "${dag.dagId}" {`,
      '  rankdir=LR;',
      '  node [shape=box];',
      ...ordered.map(
        (t) => `  "${t.taskId}" [label="${t.taskId}\\n${t.definition.operator}${rule(t) ? `\\n${rule(t)}` : ''}"${t.teardown ? ', style=dashed' : ''}];`,
      ),
      ...ordered.flatMap((t) => t.upstream.map((u) => `  "${u}" -> "${t.taskId}"${t.teardown ? ' [style=dashed]' : ''};`)),
      '}',
    ];
  }
  // A group is a line of its own where its first task is, its tasks indented under it.
  const rows = groupedRows(ordered);
  const label = (row: (typeof rows)[number]) => `${'  '.repeat(row.depth)}${row.id}`;
  const width = Math.max(...rows.map((row) => label(row).length));
  return [
    `${dag.dagId}: ${scheduleText(dag.definition)} ${dag.definition.timezone}, ${ordered.length} tasks`,
    ...rows.map((row) => {
      const t = row.task;
      if (!t) return `  ${label(row).padEnd(width)}  ${'group'.padEnd(12)} ${row.tasks} task${row.tasks === 1 ? '' : 's'}`;
      return `  ${label(row).padEnd(width)}  ${t.definition.operator.padEnd(12)} ${t.upstream.length ? `<- ${t.upstream.join(', ')}` : '(start)'}${rule(t) ? `  [${rule(t)}]` : ''}`;
    }),
  ];
}

interface DrawnRow {
  id: string;
  depth: number;
  task?: CompiledTask;
  /** A group's: how many tasks it holds, its inner groups' included. */
  tasks?: number;
}

/** The tasks in order, each group's gathered under a row of the group's own where its first task is. */
function groupedRows(ordered: readonly CompiledTask[]): DrawnRow[] {
  interface Node {
    row: DrawnRow;
    children: Node[];
  }
  const top: Node[] = [];
  const groups = new Map<string, Node>();
  for (const task of ordered) {
    const parts = task.taskId.split('.');
    let children = top;
    for (let depth = 1; depth < parts.length; depth++) {
      const id = parts.slice(0, depth).join('.');
      let node = groups.get(id);
      if (!node) {
        node = { row: { id, depth: depth - 1, tasks: 0 }, children: [] };
        groups.set(id, node);
        children.push(node);
      }
      node.row.tasks!++;
      children = node.children;
    }
    children.push({ row: { id: task.taskId, depth: parts.length - 1, task }, children: [] });
  }
  const flatten = (nodes: Node[]): DrawnRow[] => nodes.flatMap((n) => [n.row, ...flatten(n.children)]);
  return flatten(top);
}

/** Where `dags record` saves histories for the replay tier. */
export const HISTORIES_DIR = path.join(projectRoot, 'test', 'histories');

/** The next free history file for a workflow type and scenario: `<type>-<scenario>-v<N>.json`. */
export function historyFileFor(workflowType: string, scenario: string, dir = HISTORIES_DIR): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(workflowType))
    throw new DagCommandError(
      `workflow type ${workflowType} has characters a history's name cannot hold: give the DAG a workflowType of letters, digits and _`,
    );
  if (!/^[a-z0-9][a-z0-9-]*$/.test(scenario)) throw new DagCommandError(`--scenario ${JSON.stringify(scenario)}: lower-case letters, digits and -`);
  const taken = existsSync(dir) ? readdirSync(dir) : [];
  let version = 1;
  while (taken.includes(`${workflowType}-${scenario}-v${version}.json`)) version++;
  return path.join(dir, `${workflowType}-${scenario}-v${version}.json`);
}

/**
 * One run of the DAG on a worker of this process, the task table printed as it changes; 0 when it
 * succeeds. With `record`, the run's history is saved for the replay tier (whatever its outcome).
 */
export async function testDag(
  dagId: string,
  ds: string,
  conf: DagRunConf | undefined,
  out: (line: string) => void,
  record?: { scenario: string; dir?: string },
): Promise<number> {
  const catalog = loadCatalog();
  const dag: DagDefinition | undefined = findInCatalog(catalog, dagId);
  if (!dag) throw new DagCommandError(`no DAG ${JSON.stringify(dagId)}; known: ${catalog.dags.map((d) => d.dagId).join(', ')}`);
  validateDag(dag);
  const historyFile = record ? historyFileFor(dag.workflowType, record.scenario, record.dir) : undefined;
  // The test's worker serves no metrics: the port is the platform worker's.
  const config = { ...loadConfig(), metrics: undefined };
  const taskQueue = `baton-dags-test-${process.pid}`;
  const { worker, close } = await createWorker(config, createLogger(process.env.LOG_LEVEL ?? 'warn', 'baton-dags-test'), { taskQueue });
  const running = worker.run();
  const client = await connectClient(config);
  try {
    const workflowId = `${dagRunWorkflowId(dag.dagId, ds)}-test-${Date.now().toString(36)}`;
    const run = await triggerRun(client, config, dag, ds, conf, { test: true }, { taskQueue, workflowId });
    out(`testing ${dag.dagId} for ${ds} on a worker of its own (task queue ${taskQueue})`);
    out(run.url);
    const handle = client.workflow.getHandle(run.workflowId, run.runId);
    const shown = new Map<string, string>();
    const show = async () => {
      const table = await handle.query<TaskRecord[]>(Queries.tasks).catch(() => [] as TaskRecord[]);
      for (const t of table) {
        const line = `${t.state}${t.error ? `: ${t.error}` : ''}`;
        if (shown.get(t.taskId) === line || t.state === 'scheduled') continue;
        shown.set(t.taskId, line);
        out(`  ${t.taskId}: ${line}`);
      }
    };
    const timer = setInterval(() => void show(), 300);
    let code: number;
    try {
      const result = (await handle.result()) as DagRunResult;
      clearInterval(timer);
      await show();
      for (const line of describeResult(result, run)) out(line);
      code = 0;
    } catch (err) {
      clearInterval(timer);
      await show();
      out(`${dag.dagId} ${ds}: failed: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
      code = 1;
    }
    if (historyFile) {
      await mkdir(path.dirname(historyFile), { recursive: true });
      await writeFile(historyFile, `${historyToJSON(await handle.fetchHistory())}\n`);
      out(`history saved to ${path.relative(projectRoot, historyFile)}: the replay tier replays it against every later change`);
    }
    return code;
  } finally {
    await client.connection.close();
    worker.shutdown();
    await running;
    await close();
  }
}

export function addDagCommands(dagsCmd: Command, out: (line: string) => void, parse: { ds: (v: string) => string; conf: (v: string) => DagRunConf }): void {
  dagsCmd
    .command('validate')
    .argument('[dag]', 'one DAG (all by default)')
    .description(
      'check DAG files before anything is created: cycles, unknown upstreams, operator settings, crons, asset conditions, templates; exit 2 on a problem',
    )
    .action((dagId: string | undefined) => {
      const checked = checkDags().filter((c) => !dagId || c.dagId === dagId);
      if (dagId && !checked.length) throw new DagCommandError(`no DAG ${JSON.stringify(dagId)}: not in src/dags.ts or workflows/dags/`);
      for (const c of checked) {
        if (c.problems.length) out(`invalid ${c.dagId ?? '?'} (${c.where}):\n${c.problems.map((p) => `  ${p}`).join('\n')}`);
        else out(`ok ${c.dagId}${c.tasks !== undefined ? `: ${c.tasks} tasks` : ''}`);
        for (const warning of c.warnings) out(`  warning: ${warning}`);
      }
      if (checked.some((c) => c.problems.length)) process.exitCode = 2;
    });
  dagsCmd
    .command('show')
    .argument('<dag>', 'the DAG')
    .option('--format <format>', 'text, mermaid or dot', 'text')
    .description('draw a DAG file’s graph')
    .action((dagId: string, opts: { format: string }) => {
      if (!['text', 'mermaid', 'dot'].includes(opts.format))
        throw new DagCommandError(`--format must be text, mermaid or dot, got ${JSON.stringify(opts.format)}`);
      for (const line of drawDag(compiledOf(dagId), opts.format as 'text')) out(line);
    });
  dagsCmd
    .command('test')
    .argument('<dag>', 'the DAG')
    .requiredOption('--ds <date>', 'the logical date (a sub-daily DAG: its ts, 2024-01-15T13:00:00+00:00)', parse.ds)
    .option('--conf <json>', 'the run conf (params)', parse.conf)
    .description('run the DAG once for a date on a worker of its own, printing its tasks as they go (Airflow’s dags test)')
    .action(async (dagId: string, opts: { ds: string; conf?: DagRunConf }) => {
      process.exitCode = await testDag(dagId, opts.ds, opts.conf, out);
    });
  dagsCmd
    .command('record')
    .argument('<dag>', 'the DAG')
    .requiredOption('--ds <date>', 'the logical date (a sub-daily DAG: its ts, 2024-01-15T13:00:00+00:00)', parse.ds)
    .requiredOption('--scenario <name>', 'what the run shows (happy, empty, retry...): the history is test/histories/<type>-<scenario>-v<N>.json')
    .option('--conf <json>', 'the run conf (params)', parse.conf)
    .option('--histories-dir <dir>', 'where to save it', HISTORIES_DIR)
    .description('run the DAG once as dags test does and save its history for the replay tier')
    .action(async (dagId: string, opts: { ds: string; scenario: string; conf?: DagRunConf; historiesDir: string }) => {
      process.exitCode = await testDag(dagId, opts.ds, opts.conf, out, { scenario: opts.scenario, dir: path.resolve(opts.historiesDir) });
    });
}
