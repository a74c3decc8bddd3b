/**
 * The task cache (a task's `cache` setting, Prefect's cache_key_fn): its policies, look-ups and
 * the file references it stores. Pure types.
 */

/** A file under the data directory that one task hands the next: never the data itself. */
export interface FileRef {
  /** Relative to the data directory. */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** `inputs` is Prefect's task_input_hash; `inputs+file` also keys on the input file's content. */
export const CACHE_POLICIES = ['inputs', 'inputs+file'] as const;
export type CachePolicy = (typeof CACHE_POLICIES)[number];
export type CacheStatus = 'hit' | 'miss' | 'expired' | 'vanished' | 'refresh';

export interface CacheLookupInput {
  task: string;
  policy: CachePolicy;
  inputs: Record<string, unknown>;
  /** The input file (relative to the data directory) whose content `inputs+file` keys on. */
  inputFile?: string;
  /** Workflow time, ms: what expiry is judged against. */
  now: number;
  refresh?: boolean;
}

export interface CacheLookupResult {
  key: string;
  status: CacheStatus;
  reason?: string;
  fileSha256?: string;
  storedAt?: string;
  expiresAt?: string;
  result?: FileRef;
}

export interface CacheStoreInput {
  key: string;
  task: string;
  policy: CachePolicy;
  inputs: Record<string, unknown>;
  result: FileRef;
  now: number;
  expiresInMs: number;
}
