/**
 * What the console's pages show, read from Temporal: the DAGs with their schedules and last runs
 * (one schedule list, one small visibility query per DAG), a DAG's grid (src/grid.ts: one
 * visibility list, each run's task table from its memo), a task's panel (its record, a mapped
 * task's instances from its batches, its lines in the worker's log). Nothing here needs a worker
 * but the instances of a running mapped task, and nothing is kept but what Temporal holds.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SearchAttributeKeys, SearchAttributeNames, type TaskRecord } from '../contracts';
import type { Catalog } from '../dag-catalog';
import type { DagDefinition } from '../dags';
import { dagRunWorkflowId } from '../dags';
import type { MappedBatchResult } from '../mapping';
import { readRunMemo } from '../run-memo';
import { runKeyOfExecution, runsQuery } from '../runs';
import { scheduleText } from '../dags';
import { instanceRecords } from '../task-lines';
import { nextLogicalDates } from '../timetable';
import { unkeptTable, type ReadRun } from '../grid';
import { inBatches } from '../in-batches';

export interface DagRow {
  dag: DagDefinition;
  schedule: string;
  nextRun?: string;
  paused: boolean | 'no schedule';
  /** Newest first. */
  lastRuns: Array<{ key: string; status: string }>;
}

/** How many executions the one query for every DAG's latest runs reads. */
const RECENT_SCAN = 1000;
/** How long a DAG's older runs (read by a query of its own) are kept before they are read again. */
const OLDER_RUNS_MS = 60_000;

/**
 * Every DAG's last runs, fast with many DAGs: one visibility query for the newest executions of
 * all DAGs, and, only for a DAG with fewer runs there than a row shows, a query of its own whose
 * answer is kept for a minute (those runs are older than every run the first query saw, so a new
 * run or a change of state shows through the first query at once). Derived from Temporal and
 * rebuilt from it: losing it loses nothing.
 */
export class LastRuns {
  private readonly older = new Map<string, { at: number; runs: DagRow['lastRuns'] }>();

  constructor(
    private readonly client: Client,
    private readonly perDag = 8,
  ) {}

  async of(dags: readonly DagDefinition[]): Promise<Map<string, DagRow['lastRuns']>> {
    const byId = new Map(dags.map((d) => [d.dagId, d]));
    const found = new Map<string, DagRow['lastRuns']>(dags.map((d) => [d.dagId, []]));
    let seen = 0;
    for await (const run of this.client.workflow.list({ query: `${SearchAttributeNames.dag} IS NOT NULL`, pageSize: RECENT_SCAN })) {
      const dagId = run.typedSearchAttributes.get(SearchAttributeKeys.dag);
      const dag = typeof dagId === 'string' ? byId.get(dagId) : undefined;
      if (dag && run.type === dag.workflowType) add(found.get(dag.dagId)!, runKeyOfExecution(dag, run), run.status.name, this.perDag);
      if (++seen >= RECENT_SCAN) break;
    }
    // Every execution was seen: each DAG's runs are all there.
    if (seen < RECENT_SCAN) return found;
    const short = dags.filter((d) => found.get(d.dagId)!.length < this.perDag);
    const now = Date.now();
    await inBatches(short, 16, async (dag) => {
      let kept = this.older.get(dag.dagId);
      if (!kept || now - kept.at > OLDER_RUNS_MS) {
        const runs: DagRow['lastRuns'] = [];
        for await (const run of this.client.workflow.list({ query: runsQuery(dag), pageSize: this.perDag * 2 })) {
          add(runs, runKeyOfExecution(dag, run), run.status.name, this.perDag);
          if (runs.length >= this.perDag) break;
        }
        kept = { at: now, runs };
        this.older.set(dag.dagId, kept);
      }
      const runs = found.get(dag.dagId)!;
      for (const r of kept.runs) add(runs, r.key, r.status, this.perDag);
    });
    return found;
  }
}

/** Adds a run's key (its newest execution's status) to a DAG's last runs, up to `max`. */
function add(runs: DagRow['lastRuns'], key: string, status: string, max: number): void {
  if (runs.length < max && !runs.some((r) => r.key === key)) runs.push({ key, status });
}

/** Every DAG of the catalog with its schedule, next run, pause state and last runs. */
export async function dagRows(client: Client, catalog: Catalog, lastRuns: LastRuns): Promise<DagRow[]> {
  const paused = new Map<string, boolean>();
  for await (const s of client.schedule.list({ pageSize: 1000 })) paused.set(s.scheduleId, s.state.paused);
  const runs = await lastRuns.of(catalog.dags);
  const now = new Date();
  return catalog.dags.map((dag): DagRow => {
    let nextRun: string | undefined;
    try {
      nextRun = nextLogicalDates(dag, 1, now)[0];
    } catch {
      nextRun = undefined;
    }
    return {
      dag,
      schedule: scheduleText(dag),
      ...(nextRun ? { nextRun } : {}),
      paused: paused.has(dag.dagId) ? paused.get(dag.dagId)! : 'no schedule',
      lastRuns: runs.get(dag.dagId) ?? [],
    };
  });
}

/** One run of the DAG by key, as the grid reads it (its latest execution and its memo's table), or undefined when there is none. */
export async function readRun(client: Client, dag: DagDefinition, key: string): Promise<ReadRun | undefined> {
  const workflowId = dagRunWorkflowId(dag.dagId, key);
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    let memo = readRunMemo(d.memo);
    const settled = await unkeptTable(client, { workflowId, runId: d.runId, status: d.status.name }, memo);
    if (settled) memo = { ...memo, tasks: settled };
    return {
      key,
      workflowId,
      runId: d.runId,
      status: d.status.name,
      startedAt: d.startTime.toISOString(),
      ...(d.closeTime ? { closedAt: d.closeTime.toISOString() } : {}),
      ...(memo ? { tasks: memo.tasks, ...(memo.notes ? { notes: memo.notes } : {}) } : {}),
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** A mapped task's instances, each batch's last outcome (a batch still going has none yet). */
export async function instancesOf(client: Client, task: TaskRecord): Promise<TaskRecord[]> {
  if (!task.mapped) return [];
  const results = await Promise.all(
    task.mapped.batches.map(async (id) => {
      const d = await client.workflow.getHandle(id).describe();
      return d.status.name === 'COMPLETED' ? ((await client.workflow.getHandle(id).result()) as MappedBatchResult) : undefined;
    }),
  );
  return instanceRecords(
    task.taskId,
    results.flatMap((r) => r?.instances ?? []),
  );
}

/** How much of the end of each log file is read for a task's lines. */
const LOG_TAIL_BYTES = 4 * 1024 * 1024;

/**
 * A task's lines in the worker logs of `dir` (the workers this project started log to
 * `.baton/logs/`), newest last: the JSON lines that name its DAG, task and run. A worker on
 * another machine logs where it runs; its lines are here only if its log is.
 */
export async function taskLogLines(dir: string, dag: DagDefinition, key: string, taskId: string, max = 200): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const workflowId = dagRunWorkflowId(dag.dagId, key);
  const lines: Array<{ time: number; text: string }> = [];
  for (const name of names.filter((n) => n.endsWith('.log'))) {
    const file = path.join(dir, name);
    const size = (await stat(file)).size;
    const handle = await open(file, 'r');
    try {
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      for (const line of buffer.toString('utf8').split('\n')) {
        if (!line.startsWith('{') || !line.includes(taskId)) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const ofRun = entry.workflowId === workflowId || (entry.dagId === dag.dagId && (entry.ds === key || entry.ts === key));
        if (!ofRun || (entry.taskId !== taskId && entry.activityId !== taskId)) continue;
        const { level, time, msg, pid: _p, hostname: _h, name: _n, ...rest } = entry;
        const levelName =
          ({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<number, string>)[Number(level)] ?? String(level);
        const detail = Object.entries(rest)
          .filter(
            ([k]) => !['dagId', 'taskId', 'ds', 'ts', 'workflowId', 'runId', 'sdkComponent', 'taskQueue', 'namespace', 'workflowType', 'taskToken'].includes(k),
          )
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        lines.push({
          time: Number(time),
          text: `${new Date(Number(time)).toISOString().slice(11, 23)} ${levelName} ${String(msg ?? '')}${detail ? ` ${detail}` : ''}`,
        });
      }
    } finally {
      await handle.close();
    }
  }
  return lines
    .sort((a, b) => a.time - b.time)
    .slice(-max)
    .map((l) => l.text);
}
