/** Shared set-up for the test tiers: the environment `npm test` prepares (src/test-runner.ts). */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { loadConfig, type Config } from '../src/config';
import { createLogger } from '../src/logging';

export const repoRoot = path.resolve(__dirname, '..');

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig(), ...overrides };
}

export const quietLogger = createLogger('silent');

export function testPool(config: Config = testConfig()): Pool {
  return new Pool({ connectionString: config.databaseUrl, max: 4 });
}

export async function tempDir(prefix = 'baton-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** The time-skipping test server from the project venv (never downloaded). */
export function testServerPath(): string {
  const p = process.env.BATON_TEST_SERVER;
  if (!p) throw new Error('BATON_TEST_SERVER is not set: run the tests with `npm test`');
  return p;
}

export async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

export const execFileAsync = promisify(execFile);

export interface RunningWorker {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts the real worker entry point (`scripts/worker.ts`) as a user's deployment would: on the
 * worker's least-privilege database role when the test runner made one (BATON_WORKER_DATABASE_URL).
 */
export async function startWorkerProcess(env: NodeJS.ProcessEnv = process.env, args: string[] = []): Promise<RunningWorker> {
  const database = env.BATON_WORKER_DATABASE_URL ? { DATABASE_URL: env.BATON_WORKER_DATABASE_URL } : {};
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts', ...args], { cwd: repoRoot, env: { ...env, ...database, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!output.includes('"msg":"worker ready"')) {
    if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`worker not ready after 120s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // A pending timer would hold the test file's process open for its full 20 s.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** The pinned Temporal CLI, pointed at the test server and namespace. */
export async function temporalCli(args: string[]): Promise<string> {
  const bin = process.env.BATON_TEMPORAL_CLI;
  if (!bin) throw new Error('BATON_TEMPORAL_CLI is not set: run the tests with `npm test`');
  const config = loadConfig();
  const { stdout } = await execFileAsync(bin, [...args, '--address', config.temporal.address, '--namespace', config.temporal.namespace]);
  return stdout;
}

import type { DagDefinition } from '../src/dags';

/** A DAG of no-op tasks for scheduling tests: its definition travels in each run's input. */
export function noopDagDefinition(overrides: Partial<DagDefinition> & { dagId: string }, run: { tasks?: number; taskSleepMs?: number } = {}): DagDefinition {
  const dag: DagDefinition = {
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
export async function resultOf<T>(client: import('@temporalio/client').Client, workflowId: string, timeoutMs = 120_000): Promise<T> {
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

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message with quoted-printable soft line breaks joined. */
  data: string;
}

/** A real SMTP server on loopback that keeps every message it receives. */
/**
 * A real SMTP server on loopback that keeps what it receives. With `auth`, it requires those
 * credentials (over plain SMTP, as on a private relay) and records every login it accepts.
 */
export async function startSmtpServer(auth?: { user: string; pass: string }): Promise<{ port: number; mails: ReceivedMail[]; logins: string[]; close: () => Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    authOptional: !auth,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(credentials, _session, callback) {
      if (!auth || credentials.username !== auth.user || credentials.password !== auth.pass) return callback(new Error('invalid credentials'));
      logins.push(credentials.username);
      callback(null, { user: credentials.username });
    },
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data: data.replace(/=\r\n/g, '') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (BATON_CHROMIUM, installed by `npm test` when a web-ui test is selected),
 * headless, with a fresh profile. The background-networking flags keep it from calling out:
 * on a closed network those connections fail, many at a time.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.BATON_CHROMIUM;
  if (!executablePath) throw new Error('BATON_CHROMIUM is not set: run the tests with `npm test`');
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// ---- Assertions shared by the tiers ----------------------------------------------------------

import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';

/** Runs an activity function in a fresh MockActivityEnvironment (the unit tier). */
export async function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

/** Asserts a non-retryable ApplicationFailure of this type and message (exact, or matching a pattern). */
export async function nonRetryable(promise: Promise<unknown>, type: string, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type);
    assert.equal(err.nonRetryable, true);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

/** The ApplicationFailure a workflow run failed with; fails the test if the run succeeded. */
export async function workflowFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
    assert.ok(err.cause instanceof ApplicationFailure);
    return err.cause;
  }
  assert.fail('the run succeeded');
}

// ---- The workflow tier's server ----------------------------------------------------------------

import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../src/services';

/**
 * Temporal's time-skipping test server (the pinned binary; it is never downloaded), with the
 * SDK quiet unless BATON_TEST_SDK_LOG says otherwise, and the search attributes every DAG run
 * labels itself with registered, as the dev server set-up registers them.
 */
export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const level = (process.env.BATON_TEST_SDK_LOG ?? 'ERROR') as LogLevel;
  Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }) } } });
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
  const types = { Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST };
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, types[type]])),
  });
  return env;
}

import type { SeedSummary } from '../src/seed';

/**
 * A day's partition as it stands: rows loaded and rejected, distinct order_ids, the order_id
 * sum (of the number in each id, `ORD-17` counting 17) and amount sum (checksums), dbt's daily_revenue row, and the rejects by kind of bad row.
 */
export async function partition(pool: Pool, ds: string, { dbt = true }: { dbt?: boolean } = {}) {
  const { rows: [totals] } = await pool.query<{ loaded: string; distinct_ids: string; id_sum: string | null; amount_sum: string | null }>(
    `SELECT count(*) AS loaded, count(DISTINCT order_id) AS distinct_ids, sum(regexp_replace(order_id, '^[^0-9]*', '')::numeric)::text AS id_sum, sum(amount)::text AS amount_sum
     FROM warehouse.orders WHERE ds = $1`,
    [ds],
  );
  const rejected = await count(pool, 'SELECT count(*) AS n FROM warehouse.orders_rejected WHERE ds = $1', [ds]);
  // The test runs build dbt's dev target (analytics_dev).
  const dailyRevenue = dbt ? (await pool.query<{ orders: string; revenue: string }>('SELECT orders::text, revenue::text FROM analytics_dev.daily_revenue WHERE ds = $1', [ds])).rows : undefined;
  const reasons = await pool.query<{ kind: string; n: string }>(
    `SELECT CASE
       WHEN rule = 'order_id: required' THEN 'missing_order_id'
       WHEN rule = 'amount: decimal(12,2)' AND reason LIKE 'amount % is not a decimal(12,2)' THEN 'amount_not_a_number'
       WHEN rule = 'amount: >= 0' THEN 'negative_amount'
       WHEN rule = 'order_date: date' AND reason LIKE 'order_date ''%-02-30'' is not a date %' THEN 'impossible_date'
       WHEN rule = 'order_date: = ds' THEN 'wrong_order_date'
       WHEN rule = 'order_id: unique key' THEN 'duplicate_order_id'
       WHEN reason = 'expected 5 fields, found 4' THEN 'missing_column'
       ELSE reason END AS kind, count(*)::text AS n
     FROM warehouse.orders_rejected WHERE ds = $1 GROUP BY 1 ORDER BY 1`,
    [ds],
  );
  return {
    loaded: Number(totals.loaded),
    rejected,
    distinctIds: Number(totals.distinct_ids),
    orderIdSum: totals.id_sum ?? '0',
    amountSum: totals.amount_sum ?? '0',
    ...(dailyRevenue ? { dailyRevenue } : {}),
    byKind: Object.fromEntries(reasons.rows.map((r) => [r.kind, Number(r.n)])),
  };
}

/** What `partition` must find after a run of the generated file `seed` (with dbt unless `dbt: false`). */
export function expectedPartition(seed: SeedSummary, { dbt = true }: { dbt?: boolean } = {}) {
  return {
    loaded: seed.expectedLoaded,
    rejected: seed.expectedRejected,
    distinctIds: seed.expectedLoaded,
    orderIdSum: seed.expectedOrderIdSum,
    amountSum: seed.expectedRevenue,
    ...(dbt ? { dailyRevenue: [{ orders: String(seed.expectedLoaded), revenue: seed.expectedRevenue }] } : {}),
    byKind: Object.fromEntries(Object.entries(seed.byKind).filter(([, n]) => n > 0)),
  };
}

/** The attempt on which each of the run's activities finally started (from its history), by activity type. */
export async function attemptsOf(client: import('@temporalio/client').Client, workflowId: string, runId?: string): Promise<Record<string, number[]>> {
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
