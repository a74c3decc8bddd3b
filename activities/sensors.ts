/**
 * Sensor checks: one look at the world, answering found or not yet. "Not yet" is a normal
 * result, not an error, so waiting never fills logs or histories with failures.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { Config } from '../src/config';
import { createConnections, isStatementError, type PoolFor } from '../src/data/connections';
import { confinedPath, dataDirResolver } from '../src/data/data-dir';

export interface FileCheckInput {
  /** Relative to the data directory (rendered from its template by the workflow). */
  path: string;
  /** The file counts as complete once unmodified this long. */
  settleSeconds: number;
  /** Also require a marker file beside it (e.g. `_SUCCESS`). */
  successMarker?: string;
}

export interface SensorCheckResult {
  found: boolean;
  /** Why not yet (shown in the task table). */
  reason?: string;
  /** When a second look makes sense sooner than the poke interval (a file still settling). */
  recheckAfterMs?: number;
  /** Skip the sensor now, without waiting any longer (Airflow's AirflowSkipException from a poke): why. */
  skip?: string;
  /** What was found, when the sensor's output names it (the run a waitForDag waited for). */
  detail?: string;
}

export interface SensorDeps {
  config: Pick<Config, 'dataDir' | 'connections'>;
  pool: Pool;
  /** The worker's shared connections (made from pool and config.connections when absent). */
  poolFor?: PoolFor;
}

export function createSensorActivities({ config, pool, poolFor }: SensorDeps) {
  const resolve = dataDirResolver(config.dataDir);

  async function checkFile({ path: relative, settleSeconds, successMarker }: FileCheckInput): Promise<SensorCheckResult> {
    const named = resolve(relative); // `..` or an absolute path elsewhere: InvalidPath, before anything is touched
    // Symlinks resolved: a file that leads outside the data directory is refused, not waited for.
    const file = await confinedPath(config.dataDir, relative);
    const info = file ? await stat(file).catch(() => undefined) : undefined;
    if (!info?.isFile()) return { found: false, reason: `${relative} does not exist yet` };
    if (successMarker) {
      const marker = await stat(path.join(path.dirname(named), successMarker)).catch(() => undefined);
      if (!marker) return { found: false, reason: `no ${successMarker} beside ${relative} yet` };
    }
    const ageMs = Date.now() - info.mtimeMs;
    if (ageMs < settleSeconds * 1000) {
      // Still being written, or just finished: look again once it has been still for the settle time.
      return {
        found: false,
        reason: `${relative} changed ${Math.round(ageMs / 1000)}s ago (settles after ${settleSeconds}s)`,
        recheckAfterMs: settleSeconds * 1000 - ageMs + 100,
      };
    }
    return { found: true };
  }

  return { checkFile, pokeFile: createPokeActivity(checkFile), checkSql: createSqlCheck(poolFor ?? createConnections(pool, config.connections)) };
}

export interface PokeInput {
  file: FileCheckInput;
  pokeIntervalMs: number;
  timeoutMs: number;
}

export interface PokeResult extends SensorCheckResult {
  timedOut: boolean;
  checks: number;
}

/**
 * Poke mode: one long activity that checks, heartbeats and sleeps, holding its worker slot.
 * After a worker crash the retried attempt resumes from the heartbeat: the time-out still
 * counts from the first check, as Airflow's does.
 */
export function createPokeActivity(checkFile: (input: FileCheckInput) => Promise<SensorCheckResult>) {
  return async function pokeFile({ file, pokeIntervalMs, timeoutMs }: PokeInput): Promise<PokeResult> {
    const ctx = Context.current();
    const resumed = ctx.info.heartbeatDetails as { firstCheckAt: number; checks: number } | undefined;
    const firstCheckAt = resumed?.firstCheckAt ?? Date.now();
    let checks = resumed?.checks ?? 0;
    // Beat well within the heartbeat time-out, however short, so a live poke is never taken for a dead one.
    const beatEveryMs = Math.min(5_000, (ctx.info.heartbeatTimeoutMs || 10_000) / 2);
    for (;;) {
      const result = await checkFile(file);
      checks++;
      ctx.heartbeat({ firstCheckAt, checks });
      if (result.found) return { ...result, timedOut: false, checks };
      const waited = Date.now() - firstCheckAt;
      if (waited >= timeoutMs) return { ...result, timedOut: true, checks };
      const wait = Math.min(result.recheckAfterMs ?? pokeIntervalMs, pokeIntervalMs, timeoutMs - waited);
      const until = Date.now() + wait;
      while (Date.now() < until) {
        await ctx.sleep(Math.min(beatEveryMs, until - Date.now())); // rejects when the activity is cancelled
        ctx.heartbeat({ firstCheckAt, checks });
      }
    }
  };
}

export interface SqlCheckInput {
  /** Airflow's conn_id; `warehouse` (the default) is DATABASE_URL. */
  connId?: string;
  /** Parameterized statement and its values (see parameterizeSql). */
  text: string;
  params: string[];
}

/**
 * SqlSensor's check: found when the first cell of the first row is truthy and not zero.
 * A SQL error is not "not yet": it fails the sensor at once with Postgres's own message.
 */
export function createSqlCheck(poolFor: PoolFor) {
  return async function checkSql({ connId = 'warehouse', text, params }: SqlCheckInput): Promise<SensorCheckResult> {
    let rows: unknown[][];
    try {
      ({ rows } = await poolFor(connId).query({ text, values: params, rowMode: 'array' }));
    } catch (err) {
      if (isStatementError(err)) throw ApplicationFailure.nonRetryable(`SqlSensor on ${connId}: ${(err as Error).message}`, 'SqlSensorError');
      throw err;
    }
    const cell = rows[0]?.[0];
    const found = Boolean(cell) && cell !== '0' && Number(cell) !== 0;
    return found ? { found: true } : { found: false, reason: `${connId}: the query returned ${rows.length ? JSON.stringify(cell) : 'no rows'}` };
  };
}
