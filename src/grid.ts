/**
 * `baton runs grid`: Airflow's grid view in the terminal. A DAG's latest runs are the columns
 * (oldest first), its tasks the rows, each cell the task's state in that run: a coloured letter
 * on a terminal, the plain letter otherwise. Each failed cell's first error line follows the grid.
 * The layout is pure; `readGrid` reads the runs and their task tables (the console's grid too).
 */
import type { Client } from '@temporalio/client';
import { Queries, type TaskRecord, type TaskState } from './contracts';
import { inBatches } from './in-batches';
import { readRunMemo, type RunMemo } from './run-memo';
import { runKeyOfExecution, runsQuery } from './runs';
import type { DagDefinition } from './dags';

/** One column: a run's key, its execution's status, and its task table (none when it could not be read). */
export interface GridRun {
  key: string;
  workflowId: string;
  status: string;
  tasks?: TaskRecord[];
}

/** A cell's letter, by task state, and the run row's, by the run's status. */
const LETTERS: Record<TaskState, string> = {
  success: 'S',
  failed: 'F',
  upstream_failed: 'U',
  skipped: 'K',
  running: 'R',
  queued: 'Q',
  scheduled: '.',
};
const RUN_LETTERS: Record<string, string> = {
  COMPLETED: 'S',
  FAILED: 'F',
  RUNNING: 'R',
  CANCELLED: 'C',
  CANCELED: 'C',
  TERMINATED: 'T',
  TIMED_OUT: 'X',
  CONTINUED_AS_NEW: 'N',
};
/** Airflow's grid colours, as near as a terminal has them. */
const COLOURS: Record<string, string> = {
  S: '\x1b[32m',
  F: '\x1b[31m',
  U: '\x1b[33m',
  K: '\x1b[35m',
  R: '\x1b[92m',
  Q: '\x1b[90m',
  C: '\x1b[33m',
  T: '\x1b[31m',
  X: '\x1b[31m',
};
const LEGEND = 'S success  F failed  U upstream_failed  K skipped  R running  Q queued  . scheduled  - not in the run  ? not read';

/** The column heading of a run key: `06-01`, or `06-01 13:00` split over two lines for a sub-daily DAG. */
function headings(keys: readonly string[]): string[][] {
  const subDaily = keys.some((k) => k.includes('T'));
  return keys.map((k) => (subDaily ? [k.slice(5, 10), k.slice(11, 16)] : [k.slice(5, 10)]));
}

/** The grid's lines: headings, the run row, a row per task, the legend, and each failed cell's first error line. */
export function gridLines(dagId: string, runs: readonly GridRun[], taskIds: readonly string[], { colour = false }: { colour?: boolean } = {}): string[] {
  if (!runs.length) return [`${dagId}: no runs yet`];
  const paint = (letter: string) => (colour && COLOURS[letter] ? `${COLOURS[letter]}${letter}\x1b[0m` : letter);
  const ids = [...taskIds, ...new Set(runs.flatMap((r) => (r.tasks ?? []).map((t) => t.taskId)).filter((id) => !taskIds.includes(id)))];
  const width = Math.max(...ids.map((id) => id.length), 3) + 2;
  const years = [...new Set(runs.map((r) => r.key.slice(0, 4)))];
  const heads = headings(runs.map((r) => r.key));
  const cell = 7;
  const lines = [
    `${dagId}: ${runs.length} run${runs.length === 1 ? '' : 's'}, ${runs[0].key} to ${runs[runs.length - 1].key}, oldest first (${years.join(', ')})`,
  ];
  for (let row = 0; row < heads[0].length; row++) lines.push(`${''.padEnd(width)}${heads.map((h) => h[row].padEnd(cell)).join('')}`.trimEnd());
  const row = (label: string, letters: string[]) => `${label.padEnd(width)}${letters.map((l) => `${paint(l)}${' '.repeat(cell - 1)}`).join('')}`.trimEnd();
  lines.push(
    row(
      'run',
      runs.map((r) => RUN_LETTERS[r.status] ?? '?'),
    ),
  );
  for (const id of ids)
    lines.push(
      row(
        id,
        runs.map((r) => {
          if (!r.tasks) return '?';
          const task = r.tasks.find((t) => t.taskId === id);
          return task ? LETTERS[task.state] : '-';
        }),
      ),
    );
  lines.push('', LEGEND);
  const errors = runs.flatMap((r) =>
    (r.tasks ?? []).filter((t) => t.state === 'failed' && t.error).map((t) => `${r.key} ${t.taskId}: ${t.error!.split('\n')[0]}`),
  );
  if (errors.length) lines.push('', ...errors);
  return lines;
}

/** A run as a page shows it: its latest execution, when it started and ended, and its task table. */
export interface ReadRun extends GridRun {
  runId: string;
  startedAt: string;
  closedAt?: string;
  /** Lines about the run (a mark, a note of its start). */
  notes?: string[];
}

/**
 * The table of a run its memo does not hold as it ended, or undefined: a run started before runs
 * kept their table (a completed one has it in its result; a running one is asked), and a
 * cancelled run, whose memo holds the table as it was before the cancel (its tasks settle in the
 * activation it ends in; a worker replaying it answers). Asked within 2 s: a page never waits on a
 * worker, and shows the memo (or `?`) when none answers.
 */
export async function unkeptTable(
  client: Client,
  run: Pick<ReadRun, 'workflowId' | 'runId' | 'status'>,
  memo: RunMemo | undefined,
): Promise<TaskRecord[] | undefined> {
  const unsettled = memo?.tasks.some((t) => t.state === 'running' || t.state === 'queued');
  const ask = memo ? run.status === 'CANCELLED' && unsettled : run.status === 'COMPLETED' || run.status === 'RUNNING' || run.status === 'CANCELLED';
  if (!ask) return undefined;
  const handle = client.workflow.getHandle(run.workflowId, run.runId);
  const tasks = await client
    .withDeadline(Date.now() + 2_000, async () =>
      run.status === 'COMPLETED' ? ((await handle.result()) as { tasks?: TaskRecord[] } | undefined)?.tasks : handle.query<TaskRecord[]>(Queries.tasks),
    )
    .catch(() => undefined);
  return Array.isArray(tasks) ? tasks : undefined;
}

/**
 * The DAG's latest `last` runs by key, oldest first, each its latest execution with its task
 * table. The table comes from the run's memo, listed with it (src/run-memo.ts): no worker is
 * asked. A run that keeps none (started before runs kept it) is asked, and shows `?` if no
 * worker answers.
 */
export async function readGrid(client: Client, dag: DagDefinition, last: number): Promise<ReadRun[]> {
  const latest = new Map<string, { run: ReadRun; memo?: RunMemo }>();
  // Executions come newest first: a cleared or rerun run has several, and the newest is the run.
  const scan = Math.max(4 * last + 50, 200);
  let seen = 0;
  for await (const run of client.workflow.list({ query: runsQuery(dag), pageSize: Math.min(scan, 1000) })) {
    const key = runKeyOfExecution(dag, run);
    const known = latest.get(key);
    if (!known || known.run.startedAt < run.startTime.toISOString())
      latest.set(key, {
        run: {
          key,
          workflowId: run.workflowId,
          runId: run.runId,
          status: run.status.name,
          startedAt: run.startTime.toISOString(),
          ...(run.closeTime ? { closedAt: run.closeTime.toISOString() } : {}),
        },
        memo: readRunMemo(run.memo),
      });
    if (++seen >= scan) break;
  }
  const chosen = [...latest.values()].sort((a, b) => (a.run.key < b.run.key ? -1 : 1)).slice(-last);
  // A list has a run's memo as the visibility store last wrote it, which a running run outpaces:
  // a running run's table is read from its execution (no worker needed), as a closed run's is final.
  const running = chosen.filter((c) => c.run.status === 'RUNNING');
  await inBatches(running, 8, async (c) => {
    const d = await client.workflow
      .getHandle(c.run.workflowId, c.run.runId)
      .describe()
      .catch(() => undefined);
    c.memo = readRunMemo(d?.memo) ?? c.memo;
  });
  await inBatches(chosen, 8, async (c) => {
    const tasks = await unkeptTable(client, c.run, c.memo);
    if (tasks) c.memo = { ...c.memo, tasks };
  });
  return chosen.map(({ run, memo }) => ({ ...run, ...(memo ? { tasks: memo.tasks, ...(memo.notes ? { notes: memo.notes } : {}) } : {}) }));
}
