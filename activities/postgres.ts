/**
 * Postgres: the warehouse. Every step runs where the data lives: COPY streams the file into
 * staging, SQL types, checks and quarantines, and one transaction swaps the ds partition.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Logger } from 'pino';
import { projectRoot, type Config } from '../src/config';
import {
  MetricNames,
  type ExtractFromDbInput,
  type ExtractResult,
  type LoadResult,
  type PartitionInput,
  type TransformInput,
  type TransformResult,
  type ValidateInput,
  type ValidateResult,
} from '../src/contracts';
import { dags } from '../src/dags';
import { dsNodash, parseDs } from '../src/logical-date';
import { createConnections, isStatementError, WAREHOUSE, type PoolFor } from './connections';
import { checkHeader, NumberedCsvRecords, ORDERS_HEADER, ordersRawFile, readFirstLine } from './files';
import { cancellationSignal, whileHeartbeating } from './heartbeat';

export interface PostgresDeps {
  pool: Pool;
  logger: Logger;
  config: Pick<Config, 'dataDir' | 'connections'>;
  /** The worker's shared connections (made from pool and config.connections when absent). */
  poolFor?: PoolFor;
}

/** A status is a short code (shipped, refunded); a longer one is a broken record, rejected. */
const MAX_STATUS_LENGTH = 32;
/** A rejected row keeps at most this much of its record text in orders_rejected.raw. */
const MAX_RAW_LENGTH = 1000;

/** Staging tables of one logical date. Names come from a validated ds, never from input text. */
export function stagingTables(ds: string) {
  const suffix = dsNodash(ds);
  return {
    raw: `staging.orders_raw_${suffix}`,
    clean: `staging.orders_clean_${suffix}`,
    rejected: `staging.orders_rejected_${suffix}`,
  };
}

/** Creates the warehouse schemas and tables if they are missing. */
export async function migrateWarehouse(pool: Pool): Promise<void> {
  // A worker on its least-privilege role (see worker-role.sql) may not run DDL, even
  // `IF NOT EXISTS`: when every object is in place (the set-up made them) there is nothing to do.
  const { rows } = await pool.query<{ ready: boolean }>(
    `SELECT to_regnamespace('staging') IS NOT NULL AND to_regclass('warehouse.orders') IS NOT NULL
        AND to_regclass('warehouse.orders_rejected') IS NOT NULL AND to_regclass('baton.task_cache') IS NOT NULL AS ready`,
  );
  if (rows[0].ready) return;
  const sql = await readFile(path.join(projectRoot, 'activities', 'sql', 'warehouse.sql'), 'utf8');
  const client = await pool.connect();
  try {
    // Two workers starting at once would race on CREATE ... IF NOT EXISTS.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['baton:migrate']);
    await client.query(sql);
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['baton:migrate']).catch(() => undefined);
    client.release();
  }
}

/** ds validated for an activity: bad input is a non-retryable failure that names the value. */
function activityDs(value: unknown): string {
  try {
    return parseDs(value);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidLogicalDate');
  }
}

/** The DAG an activity runs for, from its workflow type: a bounded metric label, never the run's ds. */
function dagIdOf(workflowType: string | undefined): string {
  return dags.find((dag) => dag.workflowType === workflowType)?.dagId ?? workflowType ?? 'unknown';
}

/**
 * Runs `work` on one pooled connection; cancels the running statement if the activity is
 * cancelled. A connection the server drops (a restart, pg_terminate_backend) fails `work` and is
 * discarded: an 'error' event on a checked-out client with no listener would end the worker.
 */
async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const signal = cancellationSignal();
  const backendPid = (client as unknown as { processID?: number }).processID;
  const onAbort = () => {
    if (backendPid) void pool.query('SELECT pg_cancel_backend($1)', [backendPid]).catch(() => undefined);
  };
  signal.addEventListener('abort', onAbort);
  let broken: Error | undefined;
  const onError = (err: Error) => (broken ??= err);
  client.on('error', onError);
  try {
    return await work(client);
  } catch (err) {
    broken ??= err as Error;
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    client.off('error', onError);
    client.release(broken);
  }
}

async function inTransaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A fresh staging table of one day's rows as text, each with its line (or row number) at the source. */
async function createRawStaging(client: PoolClient, raw: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${raw}`);
  await client.query(
    `CREATE UNLOGGED TABLE ${raw} (
       line integer NOT NULL, order_id text, customer_id text, order_date text, amount text,
       status text, malformed_reason text, malformed_raw text)`,
  );
}

async function count(client: PoolClient, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

export function createPostgresActivities({ pool, logger, config, poolFor = createConnections(pool, config.connections) }: PostgresDeps) {
  /** Streams `<data dir>/raw/orders_<ds>.csv` into a fresh staging table with COPY. */
  async function extract({ ds: dsIn }: PartitionInput): Promise<ExtractResult> {
    const ds = activityDs(dsIn);
    const file = ordersRawFile(config.dataDir, ds);
    const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        throw ApplicationFailure.nonRetryable(
          `input file not found: ${file} (orders_daily_etl reads <data dir>/raw/orders_<ds>.csv)`,
          'FileNotFound',
        );
      }
      throw err;
    });
    if (!info.isFile()) throw ApplicationFailure.nonRetryable(`${file} is not a regular file`, 'FileNotFound');
    checkHeader(file, await readFirstLine(file));

    const { raw } = stagingTables(ds);
    const records = new NumberedCsvRecords(ORDERS_HEADER.length);
    const rowCount = await withClient(pool, async (client) => {
      await createRawStaging(client, raw);
      const copy = client.query(
        copyFrom(
          `COPY ${raw} (line, order_id, customer_id, order_date, amount, status, malformed_reason, malformed_raw)
           FROM STDIN WITH (FORMAT csv)`,
        ),
      );
      const progress = () => ({ bytes: records.stats.bytes, of: info.size });
      await whileHeartbeating(
        pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), records, copy, { signal: cancellationSignal() }),
        progress,
      );
      return copy.rowCount;
    });
    logger.info({ ds, file, rowCount, malformed: records.stats.malformed }, 'extract: staged');
    return { rowCount, file, bytes: info.size, stagingTable: raw };
  }

  /**
   * The database source: copies the ds rows of `source.orders` on a named connection into a
   * fresh staging table, COPY out of the source streamed into COPY into the warehouse, from one
   * read-only snapshot. A row's `line` is its position by order_id. Transform, load and
   * validate then work as for the file.
   */
  async function extractFromDb({ ds: dsIn, connId = WAREHOUSE }: ExtractFromDbInput): Promise<ExtractResult> {
    const ds = activityDs(dsIn);
    const { raw } = stagingTables(ds);
    const sourcePool = poolFor(connId);
    try {
      const rowCount = await withClient(sourcePool, (source) => withClient(pool, async (client) => {
        await createRawStaging(client, raw);
        await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // COPY takes no bind parameters: ds goes in as a bound setting the query reads back.
        await source.query("SELECT set_config('baton.ds', $1, true), set_config('datestyle', 'ISO', true)", [ds]);
        const copyOut = source.query(
          copyTo(
            `COPY (SELECT row_number() OVER (ORDER BY order_id, customer_id, amount, status), order_id, customer_id, "date", amount, status
                   FROM source.orders WHERE "date" = current_setting('baton.ds')::date) TO STDOUT WITH (FORMAT csv)`,
          ),
        );
        const copyIn = client.query(copyFrom(`COPY ${raw} (line, order_id, customer_id, order_date, amount, status) FROM STDIN WITH (FORMAT csv)`));
        let bytes = 0;
        copyOut.on('data', (chunk: Buffer) => (bytes += chunk.length));
        await whileHeartbeating(pipeline(copyOut, copyIn, { signal: cancellationSignal() }), () => ({ bytes }));
        await source.query('COMMIT');
        return copyIn.rowCount;
      }));
      logger.info({ ds, connId, rowCount }, 'extract_from_db: staged');
      return { rowCount, file: `${connId}:source.orders`, bytes: 0, stagingTable: raw };
    } catch (err) {
      if (isStatementError(err)) {
        throw ApplicationFailure.nonRetryable(`extract_from_db on ${connId}: ${(err as Error).message} (Baton reads source.orders ("date" date, order_id, customer_id, amount, status))`, 'SourceQueryFailed');
      }
      throw err;
    }
  }

  /**
   * Types the staged text and sorts each row into clean or rejected, in SQL. A row is
   * rejected with the first reason that applies; of duplicated order_ids the first line wins.
   */
  async function transform({ ds: dsIn, rowCount }: TransformInput): Promise<TransformResult> {
    const ds = activityDs(dsIn);
    const t = stagingTables(ds);
    return withClient(pool, (client) =>
      whileHeartbeating(
        inTransaction(client, async () => {
          const staged = await count(client, `SELECT count(*) AS n FROM ${t.raw}`).catch((err: Error) => {
            if (/does not exist/.test(err.message)) {
              throw ApplicationFailure.nonRetryable(`staging table ${t.raw} is missing: run extract for ${ds} first`, 'MissingStaging');
            }
            throw err;
          });
          if (staged !== rowCount) {
            throw ApplicationFailure.nonRetryable(
              `staging table ${t.raw} holds ${staged} rows but extract staged ${rowCount}: another run of ${ds} replaced it`,
              'StagingChanged',
            );
          }
          await client.query(`DROP TABLE IF EXISTS ${t.clean}, ${t.rejected}`);
          // The checks are written to be cheap per row: bounded regex repetitions ({1,18}) and a
          // CTE evaluated twice cost Postgres several times the COPY itself.
          await client.query("SET LOCAL work_mem = '64MB'");
          await client.query(
            `CREATE TEMP TABLE checked ON COMMIT DROP AS
             WITH typed AS (
               SELECT line, malformed_reason, malformed_raw,
                      order_id AS raw_order_id, customer_id AS raw_customer_id, order_date AS raw_order_date, amount AS raw_amount, status AS raw_status,
                      btrim(order_id) AS order_id, btrim(customer_id) AS customer_id,
                      btrim(order_date) AS order_date, btrim(amount) AS amount, btrim(status) AS status
               FROM ${t.raw}
             ), judged AS MATERIALIZED (
               SELECT *, CASE
                 WHEN malformed_reason IS NOT NULL THEN malformed_reason
                 WHEN coalesce(order_id, '') = '' THEN 'missing order_id'
                 WHEN order_id !~ '^[0-9]+$' OR length(order_id) > 18 THEN format('order_id %s is not a positive integer', quote_literal(order_id))
                 WHEN coalesce(customer_id, '') = '' THEN 'missing customer_id'
                 WHEN customer_id !~ '^[0-9]+$' OR length(customer_id) > 18 THEN format('customer_id %s is not a positive integer', quote_literal(customer_id))
                 WHEN coalesce(order_date, '') = '' THEN 'missing order_date'
                 WHEN order_date <> $1 AND order_date !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN format('order_date %s is not a date (YYYY-MM-DD)', quote_literal(order_date))
                 WHEN order_date <> $1 THEN format('order_date %s is not the run''s date %s', order_date, $1)
                 WHEN coalesce(amount, '') = '' THEN 'missing amount'
                 WHEN amount !~ '^[+-]?[0-9]+(\\.[0-9]+)?$' THEN format('amount %s is not a number', quote_literal(amount))
                 WHEN left(amount, 1) = '-' AND amount::numeric <> 0 THEN format('amount %s is negative', amount)
                 WHEN length(split_part(ltrim(amount, '+-'), '.', 1)) > 10 OR length(split_part(amount, '.', 2)) > 2
                   THEN format('amount %s is out of range (at most 10 digits and 2 decimals)', amount)
                 WHEN coalesce(status, '') = '' THEN 'missing status'
                 WHEN length(status) > ${MAX_STATUS_LENGTH} THEN format('status is %s characters long, more than ${MAX_STATUS_LENGTH}', length(status))
               END AS reason
               FROM typed
             )
             SELECT line, order_id, customer_id, amount, status,
                    CASE WHEN reason IS NOT NULL OR line > min(line) OVER w
                         THEN left(coalesce(malformed_raw, concat_ws(',', raw_order_id, raw_customer_id, raw_order_date, raw_amount, raw_status)), ${MAX_RAW_LENGTH}) END AS raw,
                    CASE
                      WHEN reason IS NOT NULL THEN reason
                      WHEN line > min(line) OVER w THEN format('duplicate order_id %s (first at line %s)', order_id, min(line) OVER w)
                    END AS reason
             FROM judged
             WINDOW w AS (PARTITION BY CASE WHEN reason IS NULL THEN order_id::bigint END)`,
            [ds],
          );
          await client.query(
            `CREATE UNLOGGED TABLE ${t.clean} AS
             SELECT $1::date AS ds, order_id::bigint AS order_id, customer_id::bigint AS customer_id,
                    $1::date AS order_date, amount::numeric(12,2) AS amount, status, line AS source_line
             FROM checked WHERE reason IS NULL`,
            [ds],
          );
          await client.query(
            `CREATE UNLOGGED TABLE ${t.rejected} AS
             SELECT $1::date AS ds, line, reason, raw FROM checked WHERE reason IS NOT NULL`,
            [ds],
          );
          const clean = await count(client, `SELECT count(*) AS n FROM ${t.clean}`);
          const rejected = await count(client, `SELECT count(*) AS n FROM ${t.rejected}`);
          logger.info({ ds, clean, rejected }, 'transform: typed and checked');
          return { cleanRows: clean, rejectedRows: rejected, cleanTable: t.clean, rejectedTable: t.rejected };
        }),
      ),
    );
  }

  /**
   * Replaces the ds partition of warehouse.orders and warehouse.orders_rejected in one
   * transaction, then counts the rows it committed (baton_rows_loaded, baton_rows_rejected).
   */
  async function load({ ds: dsIn }: PartitionInput): Promise<LoadResult> {
    const ds = activityDs(dsIn);
    const t = stagingTables(ds);
    const counts = await withClient(pool, (client) =>
      whileHeartbeating(
        inTransaction(client, async () => {
          // Two runs of the same ds (a rerun racing a retry) take turns here.
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`orders:${ds}`]);
          const replaced = await client.query('DELETE FROM warehouse.orders WHERE ds = $1', [ds]);
          const loaded = await client.query(
            `INSERT INTO warehouse.orders (ds, order_id, customer_id, order_date, amount, status, source_line)
             SELECT ds, order_id, customer_id, order_date, amount, status, source_line FROM ${t.clean}`,
          );
          await client.query('DELETE FROM warehouse.orders_rejected WHERE ds = $1', [ds]);
          const rejected = await client.query(
            `INSERT INTO warehouse.orders_rejected (ds, line, reason, raw)
             SELECT ds, line, reason, raw FROM ${t.rejected}`,
          );
          const result = {
            loadedRows: loaded.rowCount ?? 0,
            rejectedRows: rejected.rowCount ?? 0,
            replacedRows: replaced.rowCount ?? 0,
          };
          logger.info({ ds, ...result }, 'load: partition replaced');
          return result;
        }),
      ),
    );
    const { metricMeter, info } = Context.current();
    const tags = { dag_id: dagIdOf(info.workflowType) };
    metricMeter.createCounter(MetricNames.rowsLoaded, 'rows', 'rows load wrote to the warehouse').add(counts.loadedRows, tags);
    metricMeter.createCounter(MetricNames.rowsRejected, 'rows', 'rows load wrote to the rejects table').add(counts.rejectedRows, tags);
    return counts;
  }

  /**
   * Data checks on the loaded partition. A failed check is non-retryable: retrying cannot
   * change the data. On success the day's staging tables are dropped.
   */
  async function validate({ ds: dsIn, rowCount }: ValidateInput): Promise<ValidateResult> {
    const ds = activityDs(dsIn);
    return withClient(pool, async (client) => {
      const { rows } = await client.query<Record<string, string>>(
        `SELECT
           (SELECT count(*) FROM warehouse.orders WHERE ds = $1) AS loaded,
           (SELECT count(*) FROM warehouse.orders_rejected WHERE ds = $1) AS rejected,
           (SELECT count(*) - count(DISTINCT order_id) FROM warehouse.orders WHERE ds = $1) AS duplicate_ids,
           (SELECT count(*) FROM warehouse.orders WHERE ds = $1 AND order_id IS NULL) AS null_ids,
           (SELECT count(*) FROM warehouse.orders WHERE ds = $1 AND amount < 0) AS negative_amounts,
           (SELECT count(*) FROM warehouse.orders WHERE ds = $1 AND order_date <> ds) AS wrong_dates`,
        [ds],
      );
      const r = Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
      const failures: string[] = [];
      if (rowCount !== r.loaded + r.rejected) {
        failures.push(`rows in (${rowCount}) != loaded (${r.loaded}) + rejected (${r.rejected})`);
      }
      if (r.duplicate_ids > 0) failures.push(`order_id not unique: ${r.duplicate_ids} duplicate rows`);
      if (r.null_ids > 0) failures.push(`order_id null in ${r.null_ids} rows`);
      if (r.negative_amounts > 0) failures.push(`amount < 0 in ${r.negative_amounts} rows`);
      if (r.wrong_dates > 0) failures.push(`order_date <> ${ds} in ${r.wrong_dates} rows`);
      if (failures.length) {
        throw ApplicationFailure.nonRetryable(
          `validation of orders ${ds} failed ${failures.length} of 5 checks: ${failures.join('; ')}`,
          'ValidationFailed',
        );
      }
      const t = stagingTables(ds);
      await client.query(`DROP TABLE IF EXISTS ${t.raw}, ${t.clean}, ${t.rejected}`);
      logger.info({ ds, loaded: r.loaded, rejected: r.rejected }, 'validate: 5 checks passed');
      return { checksPassed: 5 };
    });
  }

  return { extract, extractFromDb, transform, load, validate };
}
