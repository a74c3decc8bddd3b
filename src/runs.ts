/**
 * Starting and following DAG runs from code: shared by `npm start`, the CLI and the tests.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Config } from './config';
import { TASK_QUEUE, type OrdersDailyEtlInput, type OrdersDailyEtlResult } from './contracts';
import type { DagDefinition } from './dags';
import { parseDs } from './logical-date';
import { webUiRunUrl } from './client';

export interface StartedRun {
  workflowId: string;
  runId: string;
  url: string;
}

/**
 * Starts the DAG's run for `ds` with the workflow id `<dag_id>-<ds>`. A run of that ds still in
 * flight is joined, not doubled; a finished one is run again (a rerun replaces its partition).
 */
export async function triggerRun(client: Client, config: Pick<Config, 'webUiUrl' | 'temporal'>, dag: DagDefinition, ds: string): Promise<StartedRun> {
  const input: OrdersDailyEtlInput = { ds: parseDs(ds) };
  const workflowId = dag.workflowId(ds);
  const handle = await client.workflow.start(dag.workflowType, {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    memo: { owner: dag.defaultArgs.owner, description: dag.description },
  });
  const runId = handle.firstExecutionRunId;
  return { workflowId, runId, url: webUiRunUrl(config, workflowId, runId) };
}

export async function waitForRun(client: Client, run: StartedRun): Promise<OrdersDailyEtlResult> {
  return client.workflow.getHandle(run.workflowId, run.runId).result() as Promise<OrdersDailyEtlResult>;
}

/** The lines `npm start` and `baton trigger --wait` print for a finished run. */
export function describeResult(result: OrdersDailyEtlResult): string[] {
  const lines = [
    `${result.dagId} ${result.ds}: ${result.state}`,
    `  rows in ${result.rowCount}, loaded ${result.loadedRows}, rejected ${result.rejectedRows}`,
  ];
  if (result.models.length) {
    lines.push(`  dbt models: ${result.models.map((m) => `${m.model} ${m.status} (${m.executionTimeSeconds}s)`).join(', ')}`);
  }
  const skipped = result.tasks.filter((t) => t.state === 'skipped').map((t) => t.taskId);
  if (skipped.length) lines.push(`  skipped: ${skipped.join(', ')}`);
  return lines;
}
