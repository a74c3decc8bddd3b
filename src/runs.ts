/**
 * Starting and following DAG runs from code: shared by `npm start`, the CLI and the tests.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Config } from './config';
import {
  MAX_CONF_BYTES,
  SearchAttributeNames,
  TASK_QUEUE,
  type DagRunConf,
  type DagRunInput,
  type OrdersDailyEtlResult,
  type OrdersPipelineResult,
  type CachePolicy,
} from './contracts';
import { dagRunWorkflowId, type DagDefinition } from './dags';
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
export async function triggerRun(
  client: Client,
  config: Pick<Config, 'webUiUrl' | 'temporal'>,
  dag: DagDefinition,
  ds: string,
  conf?: DagRunConf,
  extraInput: Record<string, unknown> = {},
): Promise<StartedRun> {
  const input: DagRunInput = { ...dag.runArgs, ...extraInput, ds: parseDs(ds), ...(conf ? { conf: checkConf(conf) } : {}) };
  const workflowId = dagRunWorkflowId(dag.dagId, ds);
  const handle = await client.workflow.start(dag.workflowType, {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    memo: { owner: dag.defaultArgs.owner, description: dag.description },
    typedSearchAttributes: [
      { key: defineSearchAttributeKey(SearchAttributeNames.dag, SearchAttributeType.KEYWORD), value: dag.dagId },
      { key: defineSearchAttributeKey(SearchAttributeNames.ds, SearchAttributeType.KEYWORD), value: ds },
      { key: defineSearchAttributeKey(SearchAttributeNames.tags, SearchAttributeType.KEYWORD_LIST), value: dag.tags },
    ],
  });
  const runId = handle.firstExecutionRunId;
  return { workflowId, runId, url: webUiRunUrl(config, workflowId, runId) };
}

/** Starts the flow orders-etl for a start date (workflow id `orders-etl-<startDate>`), as `baton run` does. */
export function runFlow(
  client: Client,
  config: Pick<Config, 'webUiUrl' | 'temporal'>,
  flow: DagDefinition,
  startDate: string,
  options: { refreshCache?: boolean; cachePolicy?: CachePolicy } = {},
) {
  return triggerRun(client, config, flow, startDate, undefined, {
    startDate,
    ...(options.refreshCache ? { refreshCache: true } : {}),
    ...(options.cachePolicy ? { cachePolicy: options.cachePolicy } : {}),
  });
}

/** The lines `baton run --wait` prints for a finished flow run. */
export function describeFlowResult(result: OrdersPipelineResult): string[] {
  return [
    `${result.flow} ${result.startDate}: ${result.rowsIn} rows in, ${result.kept} kept, ${result.dropped} dropped (no order_id), ${result.rejected} rejected`,
    `  output ${result.output.path} (${result.output.rows} rows, sha256 ${result.output.sha256.slice(0, 12)}...)`,
    ...(result.rejected ? [`  rejects ${result.rejects.path}`] : []),
    `  extract_data cache: ${result.cache.extract_data}`,
  ];
}

/** A run's conf: a JSON object of bounded size (the workflow checks again, for runs started elsewhere). */
export function checkConf(conf: unknown): DagRunConf {
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new Error('--conf must be a JSON object');
  const size = JSON.stringify(conf).length;
  if (size > MAX_CONF_BYTES) throw new Error(`--conf is ${size} bytes, more than the ${MAX_CONF_BYTES} allowed`);
  return conf as DagRunConf;
}

export async function waitForRun(client: Client, run: StartedRun): Promise<OrdersDailyEtlResult> {
  return client.workflow.getHandle(run.workflowId, run.runId).result() as Promise<OrdersDailyEtlResult>;
}

/** The lines `npm start` and `baton trigger --wait` print for a finished run. */
export function describeResult(result: OrdersDailyEtlResult): string[] {
  const lines = [`${result.dagId} ${result.ds}: ${result.state}`, `  rows in ${result.rowCount}, loaded ${result.loadedRows}, rejected ${result.rejectedRows}`];
  if (result.models.length) {
    lines.push(`  dbt models: ${result.models.map((m) => `${m.model} ${m.status} (${m.executionTimeSeconds}s)`).join(', ')}`);
  }
  const skipped = result.tasks.filter((t) => t.state === 'skipped').map((t) => t.taskId);
  if (skipped.length) lines.push(`  skipped: ${skipped.join(', ')}`);
  return lines;
}
