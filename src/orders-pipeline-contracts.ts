/**
 * The contract of the Prefect flow `orders-etl` (workflows/orders-pipeline.ts): its input, the
 * files one task hands the next, the input-hash cache and its result. Pure types.
 */
import type { TaskRecord } from './contracts';

/** orders_pipeline(start_date="2024-01-01"): the flow's default parameter. */
export const DEFAULT_START_DATE = '2024-01-01';

export interface OrdersPipelineInput {
  /** The day to process, YYYY-MM-DD; 2024-01-01 by default, as the flow's parameter. */
  startDate?: string;
  /** How schedules, `baton trigger` and backfills pass the date. */
  ds?: string;
  /** Bypass the cache: run every cached task and store fresh results. */
  refreshCache?: boolean;
  /** extract_data's cache policy: `inputs+file` (the default) or `inputs` (Prefect's task_input_hash). */
  cachePolicy?: CachePolicy;
}

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

export interface OrdersPipelineResult {
  flow: 'orders-etl';
  startDate: string;
  target: string;
  /** The Parquet file, relative to the data directory. */
  output: FileRef;
  rejects: FileRef;
  rowsIn: number;
  kept: number;
  dropped: number;
  rejected: number;
  cache: { extract_data: CacheStatus };
  tasks: TaskRecord[];
}
