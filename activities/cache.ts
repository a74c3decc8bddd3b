/**
 * Prefect's task caching, kept in Postgres so every worker shares it. A cache key is the
 * sha256 of the task name, its inputs (canonical JSON) and, with policy `inputs+file`, the
 * content hash of its input file: a changed file behind the same inputs is a miss. Expiry is
 * judged against the time the workflow passes in (workflow time), so it replays and can be
 * tested with time skipping. A cached result whose file has gone is a miss, not a crash.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../src/config';
import { withActivityContext } from '../src/logging';
import type { CacheLookupInput, CacheLookupResult, CacheStoreInput, FileRef } from '../src/contracts';
import { confinedPath, dataDirResolver, sha256File } from '../src/data/data-dir';
import { whileHeartbeating } from '../src/data/heartbeat';

export interface CacheDeps {
  pool: Pool;
  logger: Logger;
  config: Pick<Config, 'dataDir'>;
}

/** A FileRef-shaped value: a path and a size. */
const isFileRef = (value: unknown): value is FileRef =>
  typeof value === 'object' && value !== null && typeof (value as FileRef).path === 'string' && typeof (value as FileRef).bytes === 'number';

/** JSON with object keys sorted, so equal inputs always hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function createCacheActivities({ pool, logger, config }: CacheDeps) {
  const resolve = dataDirResolver(config.dataDir);

  /** Finds a task's cached result: hit, miss, expired, vanished (its file is gone) or refresh (bypassed). */
  async function cacheLookup({ task, policy, inputs, inputFile, now, refresh }: CacheLookupInput): Promise<CacheLookupResult> {
    let fileSha256: string | undefined;
    if (policy === 'inputs+file') {
      if (!inputFile) throw ApplicationFailure.nonRetryable(`cache policy inputs+file of ${task} needs its input file`, 'InvalidCachePolicy');
      // Symlinks resolved and confined: a file that leads outside the data directory is never hashed.
      const file = await confinedPath(config.dataDir, inputFile);
      const info = file ? await stat(file).catch(() => undefined) : undefined;
      // No file to hash: a miss; the task itself then fails, naming the file.
      if (!info?.isFile()) return { key: '', status: 'miss', reason: `input file ${inputFile} not found` };
      fileSha256 = await whileHeartbeating(sha256File(file!));
    }
    const key = createHash('sha256')
      .update(canonicalJson({ task, policy, inputs, fileSha256: fileSha256 ?? null }))
      .digest('hex');
    if (refresh) return { key, status: 'refresh', ...(fileSha256 ? { fileSha256 } : {}) };
    const { rows } = await pool.query<{ result: FileRef; stored_at: Date; expires_at: Date }>(
      'SELECT result, stored_at, expires_at FROM baton.task_cache WHERE cache_key = $1',
      [key],
    );
    const entry = rows[0];
    const base = { key, ...(fileSha256 ? { fileSha256 } : {}) };
    if (!entry) return { ...base, status: 'miss', reason: 'no entry' };
    const stored = { storedAt: entry.stored_at.toISOString(), expiresAt: entry.expires_at.toISOString() };
    if (entry.expires_at.getTime() <= now) return { ...base, ...stored, status: 'expired', reason: `expired at ${stored.expiresAt}` };
    // The result's file, and any file it refers to beside it (a FileRef among its fields).
    const refs = [entry.result, ...Object.values(entry.result).filter(isFileRef)];
    for (const ref of refs) {
      const cachedFile = await stat(resolve(ref.path)).catch(() => undefined);
      if (!cachedFile || cachedFile.size !== ref.bytes) {
        return { ...base, ...stored, status: 'vanished', reason: `cached file ${ref.path} is ${cachedFile ? 'changed' : 'gone'}` };
      }
    }
    return { ...base, ...stored, status: 'hit', result: entry.result };
  }

  /** Stores (or replaces) a task's result under its key until `now + expiresInMs`. */
  async function cacheStore({ key, task, policy, inputs, result, now, expiresInMs }: CacheStoreInput): Promise<{ expiresAt: string }> {
    const expiresAt = new Date(now + expiresInMs);
    await pool.query(
      `INSERT INTO baton.task_cache (cache_key, task, policy, inputs, result, stored_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (cache_key) DO UPDATE SET result = EXCLUDED.result, stored_at = EXCLUDED.stored_at, expires_at = EXCLUDED.expires_at`,
      [key, task, policy, JSON.stringify(inputs), JSON.stringify(result), new Date(now), expiresAt],
    );
    withActivityContext(logger).info({ task, key: key.slice(0, 12), expiresAt: expiresAt.toISOString() }, 'cache: stored');
    return { expiresAt: expiresAt.toISOString() };
  }

  return { cacheLookup, cacheStore };
}
