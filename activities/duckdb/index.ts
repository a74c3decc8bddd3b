/** DuckDB, where the files of the flow `orders-etl` are made: one session per call, staged files published atomically. */
export * from './orders-etl';
export { DUCKDB_LIMITS, type DuckdbLimits } from './session';
