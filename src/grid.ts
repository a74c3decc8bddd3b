/**
 * `baton runs grid`: Airflow's grid view in the terminal. A DAG's latest runs are the columns
 * (oldest first), its tasks the rows, each cell the task's state in that run: a coloured letter
 * on a terminal, the plain letter otherwise. Each failed cell's first error line follows the grid.
 * The layout is pure; `readGrid` reads the runs and their task tables.
 */
import type { Client } from '@temporalio/client';
import { Queries, type TaskRecord, type TaskState } from './contracts';
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

/**
 * The DAG's latest `last` runs by key, oldest first, each its latest execution with its task
 * table (read from the run; a run that cannot answer shows `?`).
 */
export async function readGrid(client: Client, dag: DagDefinition, last: number): Promise<GridRun[]> {
  const latest = new Map<string, { key: string; workflowId: string; runId: string; status: string; startedAt: number }>();
  let seen = 0;
  for await (const run of client.workflow.list({ query: runsQuery(dag), pageSize: 200 })) {
    const k = runKeyOfExecution(dag, run);
    const startedAt = run.startTime.getTime();
    const known = latest.get(k);
    // A cleared or rerun run has several executions: the newest is the run.
    if (!known || known.startedAt < startedAt) latest.set(k, { key: k, workflowId: run.workflowId, runId: run.runId, status: run.status.name, startedAt });
    if (++seen >= 5_000) break;
  }
  const chosen = [...latest.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).slice(-last);
  const out: GridRun[] = [];
  for (let i = 0; i < chosen.length; i += 4) {
    const batch = await Promise.all(
      chosen.slice(i, i + 4).map(async (r) => {
        const tasks = await client.workflow
          .getHandle(r.workflowId, r.runId)
          .query<TaskRecord[]>(Queries.tasks)
          .catch(() => undefined);
        return { key: r.key, workflowId: r.workflowId, status: r.status, ...(tasks ? { tasks } : {}) };
      }),
    );
    out.push(...batch);
  }
  return out;
}
