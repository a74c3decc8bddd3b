/**
 * Sensors as Airflow users know them (poke_interval, timeout from the first check, soft_fail,
 * exponential backoff), in three modes:
 * - poke: one long activity checks, heartbeats and sleeps (holds a worker slot; resumes from its
 *   heartbeat after a crash, the time-out still counting from the first check);
 * - reschedule: each check is a short activity and the wait between checks is a workflow timer,
 *   holding no worker slot;
 * - deferrable: each check is a local activity and the wait a durable workflow timer; the
 *   worker may be down for the whole wait.
 * A check that finds nothing is a normal result, never an error in logs or history.
 */
import { ApplicationFailure, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import type { FileCheckInput, SensorCheckResult, SqlCheckInput } from '../activities/sensors';
import type { RunSettings } from '../src/contracts';
import type { WaitForDagCheckInput } from '../src/operators/wait-for-dag/activity';
import { parameterizeSql, renderDataPath, templateValues } from '../src/sdk/plain-templates';
import type { DagRunContext } from './dag';

export interface SensorOptions {
  mode: 'poke' | 'reschedule' | 'deferrable';
  /** Airflow's poke_interval, e.g. '300s'. */
  pokeInterval: string;
  /** Airflow's timeout, from the first check, e.g. '3600s'. */
  timeout: string;
  /** A time-out skips the task (and what depends on it) instead of failing the run. */
  softFail?: boolean;
  /** Double the interval after each empty check, up to the time-out. */
  exponentialBackoff?: boolean;
  /** Poke mode: how long a poke may go without a heartbeat (its worker gone) before it is retried elsewhere; 30s by default. */
  heartbeatTimeout?: Duration;
}

export interface FileSensorSpec {
  /** Under the data directory, with {{ ds }}, {{ ds_nodash }}, {{ data_interval_start }}, {{ data_interval_end }}. */
  pathTemplate: string;
  /** The file counts as complete once unmodified this long (e.g. '30s'). */
  settle: string;
  successMarker?: string;
}

export type SensorOutcome = { found: true; checks: number; detail?: string } | { found: false; skipped: true; checks: number; reason: string };

/** Sensor checks queue behind real work: the lowest priority (1 is highest, 3 the default). */
const checks = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { initialInterval: '5s', maximumAttempts: 5 }, priority: { priorityKey: 5 } });
const localChecks = proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { initialInterval: '5s', maximumAttempts: 5 } });

/** The sensor's timings, with the worker's overrides (tests, local runs) applied. */
function timings(options: SensorOptions, settings: RunSettings) {
  return {
    pokeMs: msToNumber((settings.sensorPokeInterval ?? options.pokeInterval) as '1s'),
    timeoutMs: msToNumber((settings.sensorTimeout ?? options.timeout) as '1s'),
  };
}

export function fileCheckInput(spec: FileSensorSpec, run: Pick<DagRunContext, 'interval' | 'settings'>): FileCheckInput {
  let relative: string;
  try {
    relative = renderDataPath(spec.pathTemplate, templateValues(run.interval));
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidSensor');
  }
  return {
    path: relative,
    settleSeconds: msToNumber((run.settings.fileSettle ?? spec.settle) as '1s') / 1000,
    ...(spec.successMarker ? { successMarker: spec.successMarker } : {}),
  };
}

/** Waits for a complete file; returns how it ended, or fails with the last reason on a hard time-out. */
export async function fileSensor(spec: FileSensorSpec, options: SensorOptions, run: Pick<DagRunContext, 'interval' | 'settings'>): Promise<SensorOutcome> {
  const input = fileCheckInput(spec, run);
  const { pokeMs, timeoutMs } = timings(options, run.settings);
  const summary = `sensor: wait for ${input.path}`;

  if (options.mode === 'poke') {
    const result = await checks.pokeFile.executeWithOptions(
      { summary, startToCloseTimeout: timeoutMs + 60_000, heartbeatTimeout: options.heartbeatTimeout ?? '30s', retry: { maximumAttempts: 3 } },
      [{ file: input, pokeIntervalMs: pokeMs, timeoutMs }],
    );
    if (result.found) return { found: true, checks: result.checks };
    return timedOut(options, timeoutMs, result.reason ?? 'not found', result.checks);
  }

  return poll(options, pokeMs, timeoutMs, () =>
    options.mode === 'deferrable' ? localChecks.checkFile(input) : checks.checkFile.executeWithOptions({ summary }, [input]),
  );
}

export interface SqlSensorSpec {
  /** Airflow's conn_id (BATON_CONN_<ID>); the warehouse by default. */
  connId?: string;
  /** Airflow-templated SQL; `'{{ ds }}'` becomes a bound parameter, never spliced text. */
  sql: string;
}

/** Waits until the query's first cell is truthy and not zero (reschedule or deferrable mode). */
export async function sqlSensor(spec: SqlSensorSpec, options: SensorOptions, run: Pick<DagRunContext, 'interval' | 'settings'>): Promise<SensorOutcome> {
  let input: SqlCheckInput;
  try {
    input = { ...parameterizeSql(spec.sql, templateValues(run.interval)), ...(spec.connId ? { connId: spec.connId } : {}) };
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidSensor');
  }
  return sqlSensorQuery(input, options, run);
}

/** SqlSensor with its statement already parameterized (the DAG engine's templates). */
export async function sqlSensorQuery(input: SqlCheckInput, options: SensorOptions, run: Pick<DagRunContext, 'settings'>): Promise<SensorOutcome> {
  if (options.mode === 'poke') throw ApplicationFailure.nonRetryable('SqlSensor runs in reschedule or deferrable mode', 'InvalidSensor');
  const { pokeMs, timeoutMs } = timings(options, run.settings);
  const summary = `sensor: wait for ${input.connId ?? 'warehouse'} rows`;
  return poll(options, pokeMs, timeoutMs, () =>
    options.mode === 'deferrable' ? localChecks.checkSql(input) : checks.checkSql.executeWithOptions({ summary }, [input]),
  );
}

/**
 * Airflow's ExternalTaskSensor: waits until another DAG's run for a logical date (or one task of
 * it) succeeded; its check fails the sensor when that run or task failed, and skips it when the
 * task was skipped (reschedule or deferrable mode).
 */
export async function dagRunSensor(input: WaitForDagCheckInput, options: SensorOptions, run: Pick<DagRunContext, 'settings'>): Promise<SensorOutcome> {
  if (options.mode === 'poke') throw ApplicationFailure.nonRetryable('waitForDag runs in reschedule or deferrable mode', 'InvalidSensor');
  const { pokeMs, timeoutMs } = timings(options, run.settings);
  const summary = `sensor: wait for ${input.task ? `task ${input.task} of ` : ''}${input.dag} ${input.runDs}`;
  return poll(options, pokeMs, timeoutMs, () =>
    options.mode === 'deferrable' ? localChecks.operatorWaitForDag(input) : checks.operatorWaitForDag.executeWithOptions({ summary }, [input]),
  );
}

/** Check, then wait on a workflow timer, until found, skipped or timed out (from the first check). */
async function poll(options: SensorOptions, pokeMs: number, timeoutMs: number, check: () => Promise<SensorCheckResult>): Promise<SensorOutcome> {
  const firstCheckAt = Date.now();
  let interval = pokeMs;
  for (let n = 1; ; n++) {
    const result = await check();
    if (result.found) return { found: true, checks: n, ...(result.detail !== undefined ? { detail: result.detail } : {}) };
    if (result.skip !== undefined) return { found: false, skipped: true, checks: n, reason: result.skip };
    const waited = Date.now() - firstCheckAt;
    if (waited >= timeoutMs) return timedOut(options, timeoutMs, result.reason ?? 'not found', n);
    await sleep(Math.max(1, Math.min(result.recheckAfterMs ?? interval, interval, timeoutMs - waited)));
    if (options.exponentialBackoff) interval = Math.min(interval * 2, timeoutMs);
  }
}

function timedOut(options: SensorOptions, timeoutMs: number, reason: string, n: number): SensorOutcome {
  const message = `sensor timed out after ${timeoutMs / 1000}s and ${n} checks: ${reason}`;
  if (options.softFail) return { found: false, skipped: true, checks: n, reason: message };
  throw ApplicationFailure.nonRetryable(message, 'SensorTimeout');
}
