/** Temporal helpers the tiers share: the time-skipping server, no-op DAGs, results and attempts from histories. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { CronDagDefinition } from '../../src/dags';
import { searchAttributeTypes } from '../../src/contracts';
import { repoRoot, temporalCli, testServerPath } from './platform';

/** A DAG of no-op tasks for scheduling tests: its definition travels in each run's input. */
export function noopDagDefinition(
  overrides: Partial<CronDagDefinition> & { dagId: string },
  run: { tasks?: number; taskSleepMs?: number } = {},
): CronDagDefinition {
  const dag: CronDagDefinition = {
    workflowType: 'noopDag',
    description: `test DAG ${overrides.dagId}`,
    schedule: '0 6 * * *',
    timezone: 'UTC',
    timetable: 'interval',
    startDate: '2024-01-01',
    catchup: false,
    maxActiveRuns: null,
    tags: ['test'],
    defaultArgs: { owner: 'tests', dependsOnPast: false, email: [], emailOnFailure: false, emailOnRetry: false, retries: 0, retryDelay: '1s' },
    ...overrides,
  };
  const { runArgs: _ignored, ...policy } = dag;
  return { ...dag, runArgs: { dag: policy, tasks: run.tasks ?? 2, taskSleepMs: run.taskSleepMs ?? 0 } };
}

/** Waits until a workflow with this id exists, then returns its result. */
export async function resultOf<T>(client: Client, workflowId: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.workflow.getHandle(workflowId).describe();
      return (await client.workflow.getHandle(workflowId).result()) as T;
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Temporal's time-skipping test server (the pinned binary; it is never downloaded), with the
 * SDK quiet unless BATON_TEST_SDK_LOG says otherwise, and the search attributes every DAG run
 * labels itself with registered, as the dev server set-up registers them.
 */
export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const level = (process.env.BATON_TEST_SDK_LOG ?? 'ERROR') as LogLevel;
  Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }) } } });
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: searchAttributeTypes(),
  });
  return env;
}

/** The attempt on which each of the run's activities finally started (from its history), by activity type. */
export async function attemptsOf(client: Client, workflowId: string, runId?: string): Promise<Record<string, number[]>> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const typeOf = new Map<string, string>();
  const attempts: Record<string, number[]> = {};
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) (attempts[typeOf.get(String(started.scheduledEventId))!] ??= []).push(started.attempt ?? 1);
  }
  return attempts;
}

/** Where saved histories live; the replay tier replays every file here. */
export const HISTORIES_DIR = path.join(repoRoot, 'test', 'histories');

/**
 * With BATON_RECORD_HISTORIES=1, saves a finished run's history as test/histories/`name`
 * (`<workflowType>-<scenario>-<version>.json`), as the Temporal CLI exports it; the replay tier
 * then replays it without being told.
 */
export async function saveHistory(workflowId: string, runId: string, name: string): Promise<void> {
  if (process.env.BATON_RECORD_HISTORIES !== '1') return;
  const json = await temporalCli(['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--output', 'json']);
  await writeFile(path.join(HISTORIES_DIR, name), json);
}

/**
 * The most activities running at once over some workflows, read from their histories: each
 * activity's started event up, its closed event down (a mapped task's batches: its instances).
 */
export async function mostAtOnceInHistories(client: Client, workflowIds: readonly string[]): Promise<{ most: number; events: number[] }> {
  const edges: Array<[number, number]> = [];
  const events: number[] = [];
  for (const id of workflowIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    events.push(history.events?.length ?? 0);
    for (const e of history.events ?? []) {
      const at = Number(e.eventTime?.seconds ?? 0) * 1e9 + (e.eventTime?.nanos ?? 0);
      if (e.activityTaskStartedEventAttributes) edges.push([at, 1]);
      if (e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes) edges.push([at, -1]);
    }
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return { most, events };
}
