/**
 * Operating a DAG's runs from code (the CLI and the console share these): clear tasks of
 * finished runs, mark a task by hand, cancel a run, run it again whole. Each operation says who
 * asked and why, and is recorded in the run's history: a cleared or rerun run's input, a mark's
 * update, a cancel's request.
 */
import { userInfo } from 'node:os';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Config } from './config';
import {
  MARKABLE_STATES,
  type ApprovalAnswer,
  Queries,
  toRunStatus,
  Updates,
  type ClearRequest,
  type DagRunInput,
  type MarkableState,
  type MarkRequest,
  type Operator,
  type RecordedRun,
  type RunStatus,
} from './contracts';
import { keptRecords, planClear, type ClearPlan, type ClearSelection, type GraphTask } from './clear';
import { dagRunWorkflowId, type DagDefinition } from './dags';
import { rootMessage } from './errors';
import { triggerRun, type StartedRun } from './runs';

/** Who asks, when the caller does not say: `BATON_USER`, else the login on this machine. */
export function currentOperator(): string {
  if (process.env.BATON_USER) return process.env.BATON_USER;
  try {
    return userInfo().username;
  } catch {
    throw new Error('this login has no name here (no passwd entry): set BATON_USER to who you are');
  }
}

/** The identity a client's request carries into the run's history: who, through Baton. */
export const operatorIdentity = (by: string) => `baton:${by}`;

/** A run an operation names, as it stands. */
export interface RunAt {
  key: string;
  workflowId: string;
  status: RunStatus;
  runId?: string;
}

async function runAt(client: Client, dag: DagDefinition, key: string): Promise<RunAt> {
  const workflowId = dagRunWorkflowId(dag.dagId, key);
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return { key, workflowId, status: toRunStatus(d.status.name), runId: d.runId };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { key, workflowId, status: 'NOT_FOUND' };
    throw err;
  }
}

/** One run of a clear: what it would run again and keep, or why it is left as it is. */
export interface ClearTarget extends RunAt {
  plan?: ClearPlan;
  /** Why this run is not cleared. */
  refused?: string;
}

/** What an execution finished, from its `record` query; a run that cannot say is named. */
export async function recordOf(client: Client, workflowId: string, runId: string): Promise<RecordedRun> {
  try {
    return await client.workflow.getHandle(workflowId, runId).query<RecordedRun>(Queries.record);
  } catch (err) {
    throw new Error(`run ${runId} of ${workflowId} cannot be read to keep what it finished: ${(err as Error).message}`);
  }
}

/**
 * What a clear would do to each run: the tasks that run again and those kept. A run that does
 * not exist, is still running, or has nothing to clear is left alone, saying why.
 */
export async function planClears(
  client: Client,
  dag: DagDefinition,
  graph: readonly GraphTask[],
  keys: readonly string[],
  selection: ClearSelection,
): Promise<ClearTarget[]> {
  const targets: ClearTarget[] = [];
  for (const key of keys) {
    const at = await runAt(client, dag, key);
    if (at.status === 'NOT_FOUND') {
      targets.push({ ...at, refused: 'no run' });
      continue;
    }
    if (at.status === 'RUNNING') {
      targets.push({ ...at, refused: 'still running: a running run is cleared once it ends (or `baton runs cancel` it first)' });
      continue;
    }
    let record: RecordedRun;
    try {
      record = await recordOf(client, at.workflowId, at.runId!);
    } catch (err) {
      targets.push({ ...at, refused: `${(err as Error).message}; \`baton runs rerun\` runs it again whole` });
      continue;
    }
    const plan = planClear(graph, record.tasks, selection);
    targets.push(plan.selected.length ? { ...at, plan } : { ...at, plan, refused: 'nothing to clear: no task matches' });
  }
  return targets;
}

/** Starts the next execution of a finished run, continuing it as `clear` says; refuses one started meanwhile. */
async function continueRun(
  client: Client,
  config: Pick<Config, 'webUiUrl' | 'temporal'>,
  dag: DagDefinition,
  key: string,
  clear: ClearRequest,
  conf?: DagRunInput['conf'],
): Promise<StartedRun> {
  try {
    return await triggerRun(client, config, dag, key, conf, { clear }, { conflict: 'fail' });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new Error(`${dagRunWorkflowId(dag.dagId, key)} started again meanwhile: nothing was changed`);
    throw err;
  }
}

/** Clears each planned run: its next execution runs the selected tasks again and keeps the rest. */
export async function clearRuns(
  client: Client,
  config: Pick<Config, 'webUiUrl' | 'temporal'>,
  dag: DagDefinition,
  targets: readonly ClearTarget[],
  operator: Operator,
  /** Given, a run that cannot be cleared is noted here and the others go on; without it, the first such run throws. */
  failures?: Array<{ workflowId: string; error: string }>,
): Promise<StartedRun[]> {
  const started: StartedRun[] = [];
  for (const t of targets) {
    if (t.refused || !t.plan) continue;
    const clear: ClearRequest = {
      action: 'clear',
      runId: t.runId!,
      tasks: t.plan.selected,
      ...(t.plan.instances ? { instances: t.plan.instances } : {}),
      ...operator,
    };
    try {
      started.push(await continueRun(client, config, dag, t.key, clear));
    } catch (err) {
      if (!failures) throw err;
      failures.push({ workflowId: t.workflowId, error: (err as Error).message });
    }
  }
  return started;
}

/** What a mark did: set the task in the running run, or continued a finished run with it set. */
export type MarkOutcome = { kind: 'updated'; workflowId: string; runId: string; state: string } | { kind: 'continued'; run: StartedRun; rerun: string[] };

/**
 * Marks a task success, failed or skipped by hand (Airflow's mark success). In a running run the
 * task takes the state at once (its work is cancelled if it is running) and what depends on it
 * goes on; a finished run continues in a new execution with the task set, running what had not run.
 */
export async function markTask(
  client: Client,
  config: Pick<Config, 'webUiUrl' | 'temporal'>,
  dag: DagDefinition,
  graph: readonly GraphTask[],
  key: string,
  taskId: string,
  state: MarkableState,
  operator: Operator,
): Promise<MarkOutcome> {
  if (!MARKABLE_STATES.includes(state)) throw new Error(`a task is marked ${MARKABLE_STATES.join(', ')}, not ${JSON.stringify(state)}`);
  if (!graph.some((t) => t.taskId === taskId))
    throw new Error(`no task ${JSON.stringify(taskId)} in ${dag.dagId}; its tasks are ${graph.map((t) => t.taskId).join(', ')}`);
  const at = await runAt(client, dag, key);
  if (at.status === 'NOT_FOUND') throw new Error(`${dag.dagId} has no run for ${key}`);
  if (at.status === 'RUNNING') {
    const handle = client.workflow.getHandle(at.workflowId, at.runId);
    let result: string;
    try {
      result = await handle.executeUpdate<string, [MarkRequest]>(Updates.markTask, { args: [{ taskId, state, ...operator }] });
    } catch (err) {
      // The run's refusal (its update validator) says why.
      throw new Error(`${at.workflowId}: ${rootMessage(err)}`);
    }
    return { kind: 'updated', workflowId: at.workflowId, runId: at.runId!, state: result };
  }
  const record = await recordOf(client, at.workflowId, at.runId!);
  const marks = { [taskId]: state };
  const kept = new Set(keptRecords(graph, record.tasks, { tasks: [], marks }).map((t) => t.taskId));
  const rerun = graph.map((t) => t.taskId).filter((id) => id !== taskId && !kept.has(id));
  const run = await continueRun(client, config, dag, key, { action: 'mark', runId: at.runId!, tasks: [], marks, ...operator });
  return { kind: 'continued', run, rerun };
}

/**
 * Answers an approval task of a running run (approve or reject, with a choice or a value); the
 * run checks the answer before it takes it, and refuses a second one, naming the first.
 */
export async function answerApproval(client: Client, dag: DagDefinition, key: string, answer: ApprovalAnswer): Promise<string> {
  const at = await runAt(client, dag, key);
  if (at.status === 'NOT_FOUND') throw new Error(`${dag.dagId} has no run for ${key}`);
  if (at.status !== 'RUNNING') throw new Error(`${at.workflowId} is not running (it ${at.status.toLowerCase().replace('_', ' ')}): no approval waits in it`);
  try {
    return await client.workflow.getHandle(at.workflowId, at.runId).executeUpdate<string, [ApprovalAnswer]>(Updates.answerApproval, { args: [answer] });
  } catch (err) {
    // The run's refusal (its update validator) says why: that is the message.
    throw new Error(`${at.workflowId}: ${rootMessage(err)}`);
  }
}

/** Cancels a running run; the request in its history names who asked and why. */
export async function cancelRun(client: Client, dag: DagDefinition, key: string, operator: Operator): Promise<RunAt> {
  const at = await runAt(client, dag, key);
  if (at.status === 'NOT_FOUND') throw new Error(`${dag.dagId} has no run for ${key}`);
  if (at.status !== 'RUNNING') throw new Error(`${at.workflowId} is not running (it ${at.status.toLowerCase().replace('_', ' ')}): there is nothing to cancel`);
  await client.workflowService.requestCancelWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId: at.workflowId, runId: at.runId },
    identity: operatorIdentity(operator.by),
    reason: operator.reason ? `${operator.by}: ${operator.reason}` : `cancelled by ${operator.by}`,
  });
  return at;
}

/**
 * Runs a finished run again whole, with the conf it had: every task runs, and the new
 * execution's input says who asked and why.
 */
export async function rerunRun(
  client: Client,
  config: Pick<Config, 'webUiUrl' | 'temporal'>,
  dag: DagDefinition,
  graph: readonly GraphTask[],
  key: string,
  operator: Operator,
): Promise<StartedRun> {
  const at = await runAt(client, dag, key);
  if (at.status === 'NOT_FOUND') throw new Error(`${dag.dagId} has no run for ${key}: \`baton trigger\` starts one`);
  if (at.status === 'RUNNING') throw new Error(`${at.workflowId} is still running: it runs again once it ends (or \`baton runs cancel\` it first)`);
  // The conf it ran with: a continued execution (a clear, a mark) has it from the one before, as its record says.
  const conf = await recordOf(client, at.workflowId, at.runId!).then(
    (record) => record.conf,
    () => startedConf(client, at.workflowId, at.runId!),
  );
  return continueRun(client, config, dag, key, { action: 'rerun', runId: at.runId!, tasks: graph.map((t) => t.taskId), ...operator }, conf);
}

/** The conf an execution was started with, from its first history event. */
async function startedConf(client: Client, workflowId: string, runId: string): Promise<DagRunInput['conf']> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0];
  if (started?.eventType !== temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) return undefined;
  const payload = started.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = payload ? (defaultPayloadConverter.fromPayload(payload) as Partial<DagRunInput> | undefined) : undefined;
  return input?.conf;
}
