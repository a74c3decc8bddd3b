/**
 * The files of the flow `orders-etl` as DuckDB sees them: the staged extract's and the output's
 * Parquet schemas, pandas' missing values, and the SQL that sorts each row into kept, dropped
 * or rejected.
 */
import type { ColumnContract } from 'baton/sdk';

/** Rows per Parquet row group: DuckDB's default (122,880) buffers four times as much per thread. */
export const ROW_GROUP_SIZE = 32_768;

/** The Parquet that loadOrders writes: the same columns and types for every day, empty or not. */
export const ORDERS_PARQUET_SCHEMA = [
  ['order_id', 'VARCHAR'], // never null: checked before writing (DuckDB marks every Parquet column OPTIONAL)
  ['customer_id', 'VARCHAR'],
  ['order_date', 'VARCHAR'],
  ['amount', 'DOUBLE'],
  ['status', 'VARCHAR'],
  ['source_line', 'BIGINT'],
] as const;

/** pandas.read_csv's default missing values (na_values): what dropna and NaN see as missing. */
export const PANDAS_NA_VALUES = [
  '',
  '#N/A',
  '#N/A N/A',
  '#NA',
  '-1.#IND',
  '-1.#QNAN',
  '-NaN',
  '-nan',
  '1.#IND',
  '1.#QNAN',
  '<NA>',
  'N/A',
  'NA',
  'NULL',
  'NaN',
  'None',
  'n/a',
  'nan',
  'null',
];
export const PANDAS_NA = PANDAS_NA_VALUES.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');

/** The flow's five columns, read by name as text: Prefect's flow judges them itself (transformOrders). */
export const ORDERS_COLUMNS = ['order_id', 'customer_id', 'order_date', 'amount', 'status'];
export const FLOW_CONTRACT: ColumnContract = {
  header: 'by-name',
  columns: ORDERS_COLUMNS.map((name) => ({ name, type: 'text', required: false, trim: false })),
};

/** The staged extract's rows: the CSV's fields as text, each record with the line it starts on (a Parquet file of earlier versions). */
export const EXTRACT_SCHEMA = [
  ['source_line', 'BIGINT'],
  ...ORDERS_COLUMNS.map((name) => [name, 'VARCHAR'] as const),
  ['malformed_reason', 'VARCHAR'], // set for a record that cannot be read as fields (the rest are then NULL)
  ['malformed_raw', 'VARCHAR'],
] as const;

export const TARGET = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** An amount in its commonest form, digits with an optional fraction: a finite number (cast as it is). */
const PLAIN_AMOUNT = String.raw`[0-9]+(\.[0-9]*)?`;

/**
 * Sorts each staged row of `source` (a query of EXTRACT_SCHEMA's columns), in SQL, into kept,
 * dropped or rejected (the first that applies):
 *   rejected  a malformed CSV record, with its reason
 *   dropped   order_id missing: one of pandas' missing values ('', NA, N/A, NULL, None, nan,
 *             NaN, #N/A, <NA>, ...), as Prefect's dropna(subset=["order_id"])
 *   rejected  an amount that is not a finite decimal number ("12.50", "-3", "1e3", " 7 ")
 *   kept      everything else; an amount pandas reads as NaN is kept as NULL
 * Kept rows keep their text as written (no trimming): only `amount` changes type.
 */
export const judgedSql = (source: string) => String.raw`
  SELECT *,
    CASE
      WHEN malformed_reason IS NOT NULL THEN 'reject'
      WHEN order_id IS NULL OR order_id IN (${PANDAS_NA}) THEN 'drop'
      WHEN amount_given AND NOT coalesce(isfinite(amount_value), false) THEN 'reject'
      ELSE 'keep'
    END AS verdict,
    CASE
      WHEN malformed_reason IS NOT NULL THEN malformed_reason
      WHEN order_id IS NULL OR order_id IN (${PANDAS_NA}) THEN NULL
      WHEN amount_given AND amount_value IS NULL THEN 'amount ''' || replace(amount, '''', '''''') || ''' is not a number'
      WHEN amount_given AND NOT isfinite(amount_value) THEN 'amount ''' || replace(amount, '''', '''''') || ''' is out of range for a DOUBLE'
    END AS reason
  FROM (
    SELECT *,
      NOT (amount IS NULL OR amount IN (${PANDAS_NA})) AS amount_given,
      CASE WHEN regexp_full_match(amount, '${PLAIN_AMOUNT}') THEN TRY_CAST(amount AS DOUBLE)
           WHEN regexp_full_match(amount, '\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*')
           THEN TRY_CAST(regexp_replace(amount, '^\s+|\s+$', '', 'g') AS DOUBLE) END AS amount_value
    FROM (${source})
  )`;

/**
 * The rows of `source` that may not be kept: every row outside it is one judgedSql keeps
 * (well-formed, an order_id, a plain amount short enough to be finite), so the few others are
 * judged without judging the rest twice.
 */
export const maybeNotKeptSql = (source: string) => `
  SELECT * FROM (${source})
  WHERE NOT (malformed_reason IS NULL AND order_id IS NOT NULL AND order_id NOT IN (${PANDAS_NA})
             AND coalesce(regexp_full_match(amount, '${PLAIN_AMOUNT}') AND strlen(amount) <= 300, false))`;

const NA_TEXTS = new Set(PANDAS_NA_VALUES);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/**
 * Whether a record's order_id and amount (the spans at 0 and 3, the contract's order) make it
 * surely kept by judgedSql: an order_id that is not one of pandas' missing values, and an amount
 * left empty or written as PLAIN_AMOUNT (short enough to be finite). extract writes the others
 * again, for transform to judge without a second read of every row; a record this vouches for
 * wrongly would break transform's count, never slip through.
 */
export function surelyKept(buf: Buffer, starts: Int32Array, ends: Int32Array): boolean {
  const idStart = starts[0];
  const idEnd = ends[0];
  if (idEnd === idStart || (idEnd - idStart <= 8 && NA_TEXTS.has(buf.toString('latin1', idStart, idEnd)))) return false;
  let i = starts[3];
  const end = ends[3];
  if (i === end) return true;
  if (end - i > 300 || !isDigit(buf[i])) return false;
  while (i < end && isDigit(buf[i])) i++;
  if (i < end && buf[i] === 0x2e) {
    i++;
    while (i < end && isDigit(buf[i])) i++;
  }
  return i === end;
}
