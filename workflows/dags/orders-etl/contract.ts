/**
 * orders-etl's result: the Parquet written, its rejects and the counts. Pure: read by the DAG
 * file and its tests.
 */
import type { TaskRecord } from 'baton/sdk';

/** A file under the data directory that one task hands the next: never the data itself. */
export interface FileRef {
  /** Relative to the data directory. */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * extractOrders' staged file: a numbered CSV (or, from earlier versions, a Parquet file) and how
 * its rows are laid out: `line, <fields>, malformed_reason, malformed_raw`, the orders columns
 * at `positions`.
 */
export interface StagedExtract extends FileRef {
  fields?: number;
  positions?: number[];
  /** The rows extract could not vouch would be kept (and the malformed ones), again: a plain file's. */
  unsure?: FileRef;
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
  cache: { extract_data: 'hit' | 'miss' | 'expired' | 'vanished' | 'refresh' };
  tasks: TaskRecord[];
}
