/**
 * Starting and following DAG runs from code: shared by `npm start`, the CLI and the tests.
 */
import { ScheduleNotFoundError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { Config } from './config';
import { MAX_CONF_BYTES, SearchAttributeKeys, SearchAttributeNames, TASK_QUEUE, type DagRunConf, type DagRunInput, type TaskRecord } from './contracts';
import { dagRunWorkflowId, runInputFor, type DagDefinition } from './dags';
import { intervalForKey, runKeyOf } from './timetable';
import { webUiRunUrl } from './client';

export interface StartedRun {
  dagId: string;
  ds: string;
  /** A sub-daily DAG's run: its logical timestamp, which names it. */
  ts?: string;
  workflowId: string;
  runId: string;
  url: string;
}

/**
 * Starts the DAG's run for `key`, its ds (its ts for a sub-daily DAG), with the workflow id
 * `<dag_id>-<key>`. A run of that key still in flight is joined, not doubled; a finished one is
 * run again (a rerun replaces its partition). A key that names no run of the DAG is refused.
 */
export async function triggerRun(
  client: Client,
  config: Pick<Config, 'webUiUrl' | 'temporal'>,
  dag: DagDefinition,
  key: string,
  conf?: DagRunConf,
  extraInput: Record<string, unknown> = {},
  /** Where the run goes: `baton dags test` gives it a task queue and a workflow id of its own. */
  placement: { taskQueue?: string; workflowId?: string; conflict?: 'join' | 'fail' } = {},
): Promise<StartedRun> {
  const interval = intervalForKey(dag, key);
  const { ds } = interval;
  key = runKeyOf(dag, interval);
  const subDaily = key !== ds;
  const input: DagRunInput = { ...dag.runArgs, ...extraInput, ...runInputFor(key), ...(conf ? { conf: checkConf(conf) } : {}) };
  const workflowId = placement.workflowId ?? dagRunWorkflowId(dag.dagId, key);
  const handle = await client.workflow.start(dag.workflowType, {
    taskQueue: placement.taskQueue ?? dag.taskQueue ?? TASK_QUEUE,
    workflowId,
    args: [input],
    // A run in flight is joined; an operation continuing a finished run (a clear) refuses one.
    workflowIdConflictPolicy: placement.conflict === 'fail' ? WorkflowIdConflictPolicy.FAIL : WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    memo: { owner: dag.defaultArgs.owner, description: dag.description },
    typedSearchAttributes: [
      { key: SearchAttributeKeys.dag, value: dag.dagId },
      { key: SearchAttributeKeys.ds, value: ds },
      ...(subDaily ? [{ key: SearchAttributeKeys.ts, value: key }] : []),
      { key: SearchAttributeKeys.tags, value: dag.tags },
    ],
  });
  const runId = handle.firstExecutionRunId;
  return { dagId: dag.dagId, ds, ...(subDaily ? { ts: key } : {}), workflowId, runId, url: webUiRunUrl(config, workflowId, runId) };
}

/** Options of `baton run`. */
export interface RunOptions {
  conf?: DagRunConf;
  /** Run the DAG's cached tasks afresh and store fresh results (conf `refresh_cache: true`). */
  refreshCache?: boolean;
}

/** `baton run`: starts a run of any DAG for a date, as Prefect runs a flow; `--refresh-cache` is conf `refresh_cache`. */
export async function startRun(client: Client, config: Pick<Config, 'webUiUrl' | 'temporal'>, dag: DagDefinition, key: string, options: RunOptions = {}) {
  const conf = options.refreshCache ? { ...options.conf, refresh_cache: true } : options.conf;
  return triggerRun(client, config, dag, key, conf);
}

/** A run's conf: a JSON object of bounded size (the workflow checks again, for runs started elsewhere). */
export function checkConf(conf: unknown): DagRunConf {
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new Error('--conf must be a JSON object');
  const size = JSON.stringify(conf).length;
  if (size > MAX_CONF_BYTES) throw new Error(`--conf is ${size} bytes, more than the ${MAX_CONF_BYTES} allowed`);
  return conf as DagRunConf;
}

/** What every DAG run returns: its task table, and from the DAG toolkit its DAG, logical date and state. */
export interface DagRunResult {
  dagId?: string;
  ds?: string;
  ts?: string;
  state?: string;
  tasks: TaskRecord[];
  notes?: string[];
}

/** The result of a run (its workflow's return value); rejects with the run's failure. */
export async function waitForRun<R extends DagRunResult = DagRunResult>(client: Client, run: StartedRun): Promise<R> {
  return client.workflow.getHandle(run.workflowId, run.runId).result() as Promise<R>;
}

/**
 * The lines `npm start`, `baton trigger --wait` and `baton run --wait` print for a finished run
 * of any DAG: its state, then each task of its task table with its state and key output (XCom).
 */
export function describeResult(result: DagRunResult, run: Pick<StartedRun, 'dagId' | 'ds' | 'ts'>): string[] {
  const lines = [`${result.dagId ?? run.dagId} ${result.ts ?? run.ts ?? result.ds ?? run.ds}: ${result.state ?? 'success'}`];
  for (const note of result.notes ?? []) lines.push(`  note: ${note}`);
  for (const task of result.tasks) {
    const output = Object.entries(task.output ?? {}).map(([key, value]) => `${key} ${value}`);
    lines.push(`  ${task.taskId} ${task.state}${output.length ? `: ${output.join(', ')}` : ''}`);
  }
  return lines;
}

/** The key a listed execution of the DAG's runs names: its ts for a sub-daily run, else its ds. */
export function runKeyOfExecution(dag: DagDefinition, run: Pick<WorkflowExecutionInfo, 'workflowId' | 'typedSearchAttributes'>): string {
  const key = run.typedSearchAttributes.get(SearchAttributeKeys.ts) ?? run.typedSearchAttributes.get(SearchAttributeKeys.ds);
  return typeof key === 'string' ? key : run.workflowId.slice(dag.dagId.length + 1);
}

/** The visibility query for a DAG's runs: its search attribute, and its workflow type (a backfill or keeper carries no BatonDag). */
export const runsQuery = (dag: DagDefinition) => `${SearchAttributeNames.dag} = '${dag.dagId}' AND WorkflowType = '${dag.workflowType}'`;

/** Whether the DAG's schedule runs, is paused, or is not there. */
export async function scheduleState(client: Client, dag: DagDefinition): Promise<'active' | 'paused' | 'no schedule'> {
  try {
    return (await client.schedule.getHandle(dag.dagId).describe()).state.paused ? 'paused' : 'active';
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return 'no schedule';
    throw err;
  }
}

/** The DAG's latest runs, newest first, as `baton runs list` shows them. */
export async function listRuns(client: Client, dag: DagDefinition, limit: number) {
  const runs: Array<{ workflowId: string; ds: string; status: string; startTime: string; closeTime?: string; durationMs?: number }> = [];
  for await (const run of client.workflow.list({ query: runsQuery(dag), pageSize: Math.min(limit, 100) })) {
    runs.push({
      workflowId: run.workflowId,
      ds: runKeyOfExecution(dag, run),
      status: run.status.name,
      startTime: run.startTime.toISOString(),
      ...(run.closeTime ? { closeTime: run.closeTime.toISOString(), durationMs: run.closeTime.getTime() - run.startTime.getTime() } : {}),
    });
    if (runs.length >= limit) break;
  }
  return runs;
}
