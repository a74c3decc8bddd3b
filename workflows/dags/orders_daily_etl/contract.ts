/**
 * orders_daily_etl's contract: what raw/orders_<ds>.csv must hold, what its tasks hand each other
 * and what a run returns. Pure: read by the DAG file, its tasks and their tests.
 */
import type { ColumnContract, TaskRecord } from 'baton/sdk';
import type { DbtOutcome, StagedCsv } from 'baton/task';

/** How the file's physical lines were read, as stageCsv accounts for them: counts only. */
export type LineAccount = StagedCsv['account'];

/** A dbt model's outcome in dbt_run. */
export type DbtModelResult = DbtOutcome['nodes'][number];

/**
 * What `raw/orders_<ds>.csv` must hold: the five columns in this order, ids as text (UUIDs,
 * `#1001`, `ORD-2024-000123`), amounts as decimal(12,2) in any spelling numeric reads without
 * losing a digit, the order date equal to the run's date, one row per order_id (the first wins).
 */
export const ORDERS_CONTRACT: ColumnContract = {
  header: 'exact',
  columns: [
    { name: 'order_id', type: 'text', maxLength: 64 },
    { name: 'customer_id', type: 'text', maxLength: 64 },
    { name: 'order_date', type: 'date', rules: ['= ds'] },
    { name: 'amount', type: 'decimal(12,2)', rules: ['>= 0'] },
    { name: 'status', type: 'text', maxLength: 32 },
  ],
  key: { columns: ['order_id'], keep: 'first' },
};

/** The default max_rejected_ratio: a day with more than 5% of its records rejected is refused. */
export const DEFAULT_MAX_REJECTED_RATIO = 0.05;

/** Where a run of orders_daily_etl reads the day's orders: the CSV file (default) or the source database. */
export const ORDERS_SOURCES = ['file', 'db'] as const;
export type OrdersSource = (typeof ORDERS_SOURCES)[number];

export interface OrdersDailyEtlResult {
  dagId: string;
  ds: string;
  state: 'success' | 'success_with_skips';
  /** The day had no orders: send_empty_alert mailed, and the notifiers that chose `empty` are told. */
  empty: boolean;
  rowCount: number;
  loadedRows: number;
  rejectedRows: number;
  models: DbtModelResult[];
  tasks: TaskRecord[];
}

export interface PartitionInput {
  ds: string;
}

export interface ExtractFromDbInput {
  ds: string;
  /** Airflow's conn_id of the source database; the warehouse by default. */
  connId?: string;
}

export interface ExtractResult {
  /** Records in the file (loaded + rejected), header excluded (XCom `row_count`). */
  rowCount: number;
  file: string;
  bytes: number;
  stagingTable: string;
  /** Records that passed the column contract, and records rejected (malformed or breaking it). */
  stagedRows?: number;
  stagedRejects?: number;
  /** Every line of the file: header + blank + lines of loaded records + lines of rejected records. */
  lines?: LineAccount;
  loadedLines?: number;
  rejectedLines?: number;
  /** order_ids staged that may repeat an earlier one's, for transform's search (absent: it searches every row). */
  keyCandidates?: number;
}

export interface TransformInput {
  ds: string;
  /** Pulled from extract's result, as transform pulls `row_count` from XCom. */
  rowCount: number;
  /** What extract staged (absent in runs started before they were passed). */
  stagedRows?: number;
  stagedRejects?: number;
  /** extract's keyCandidates: how many order_ids it staged for the search of repeated ones. */
  keyCandidates?: number;
}

export interface TransformResult {
  cleanRows: number;
  rejectedRows: number;
  cleanTable: string;
  rejectedTable: string;
  /** Records rejected by the key rule (a second record of one order_id). */
  duplicates?: number;
}

export interface LoadInput {
  ds: string;
  /** The audit: records in the file, and what transform left to publish. */
  rowCount?: number;
  cleanRows?: number;
  rejectedRows?: number;
  /** The share of rejected records above which the day is not published (the DAG's max_rejected_ratio). */
  maxRejectedRatio?: number;
}

export interface LoadResult {
  loadedRows: number;
  rejectedRows: number;
  /** Rows of the ds partition replaced by this load. */
  replacedRows: number;
}

export interface ValidateInput {
  ds: string;
  rowCount: number;
  /** extract's account of the file's lines, checked against the published rows and rejects. */
  lines?: LineAccount;
}

export interface ValidateResult {
  checksPassed: number;
}
