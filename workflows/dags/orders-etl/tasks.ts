/**
 * DuckDB: the files of the Prefect flow `orders-etl`. Each task reads one file under the data
 * directory and writes another with DuckDB `COPY (SELECT ...) TO ... (FORMAT parquet)`: rows
 * never become JS objects (only extract's line numbering streams the raw bytes, 1 MiB at a
 * time) and memory stays within DUCKDB_LIMITS whatever the file's size. Tasks hand each other
 * a FileRef (path, rows, bytes, sha256), never the data.
 *
 *   raw/orders_<startDate>.csv
 *     extractOrders   -> staging/orders-etl/<startDate>/extract-<sha16>.parquet   every field as text, with its source line
 *     transformOrders -> staging/orders-etl/<target>/clean-<sha16>.parquet        rows kept, amount as DOUBLE
 *                      + processed/<target>.rejects.csv                           rows refused, with line and reason
 *     loadOrders      -> processed/<target>.parquet                               replaced atomically
 *
 * Staged files are named by their content, so a retry that writes the same rows writes the
 * same file, and a FileRef can never point at different rows than it was made from.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  DUCKDB_LIMITS,
  failTask,
  openDataFile,
  parseDs,
  sqlString,
  stagedFiles,
  tracked,
  waitUntilSettled,
  withDuckdb,
  writeNumberedCsv,
  type DuckdbLimits,
} from 'baton/task';
import type { FileRef } from './contract';
import {
  EXTRACT_SCHEMA,
  FLOW_CONTRACT,
  JUDGED_MACRO,
  NUMBERED_LINE_BYTES,
  ORDERS_COLUMNS,
  ORDERS_PARQUET_SCHEMA,
  PANDAS_NA,
  ROW_GROUP_SIZE,
  TARGET,
} from './schema';

export type { FileRef };

const nonRetryable = (message: string, type: string) => failTask(message, type);

/** `raw/orders_<startDate>.csv`, relative to the data directory, from a checked date (never a path of its own). */
const rawPath = (startDate: string) => `raw/orders_${parseDs(startDate, 'startDate')}.csv`;

export interface DuckdbDeps {
  /** The task's logger (its lines carry the run's workflow and run ids). */
  logger: Logger;
  config: { dataDir: string };
  /** DuckDB's memory and threads per activity call; DUCKDB_LIMITS by default. */
  limits?: DuckdbLimits;
}

export interface ExtractOrdersInput {
  /** The day whose `raw/orders_<startDate>.csv` is read, YYYY-MM-DD. */
  startDate: string;
  /** The file must have been still this long before it is read (as wait_for_file's settle); 0 by default. */
  settleSeconds?: number;
}

export interface TransformOrdersInput {
  /** extractOrders' staged file. */
  input: FileRef;
  /** The output's name: `processed/<target>.parquet` and `processed/<target>.rejects.csv`. */
  target: string;
}

export interface TransformOrdersResult {
  clean: FileRef;
  rejects: FileRef;
  /** rowsIn = kept + dropped + rejected, always. */
  rowsIn: number;
  kept: number;
  /** Rows without an order_id: dropped and counted, as Prefect's dropna(subset=["order_id"]). */
  dropped: number;
  /** Rows in the rejects file: a malformed CSV record or an amount that is not a number. */
  rejected: number;
}

export interface LoadOrdersInput {
  /** transformOrders' clean file. */
  input: FileRef;
  target: string;
}

export function createOrdersEtlTasks({ logger, config, limits = DUCKDB_LIMITS }: DuckdbDeps) {
  const root = path.resolve(config.dataDir);
  const { withWorkDir, stagedFile, checkParquetSchema, publish, tempBeside } = stagedFiles(root);

  function checkTarget(target: unknown): string {
    if (typeof target !== 'string' || !TARGET.test(target) || target.includes('..')) {
      throw nonRetryable(
        `target ${JSON.stringify(typeof target === 'string' ? target.slice(0, 200) : target)} is not a plain file name: use letters, digits, _, - and . (not first, no ..), at most 128 characters`,
        'InvalidTarget',
      );
    }
    return target;
  }

  function checkStartDate(value: unknown): string {
    try {
      return parseDs(value, 'startDate');
    } catch (err) {
      throw nonRetryable((err as Error).message, 'InvalidStartDate');
    }
  }

  /**
   * extract_data: `raw/orders_<startDate>.csv` to a staged Parquet file of text columns.
   *
   * The file is read once, settled and unchanged, by the CSV reader both pipelines share
   * (Baton's, as loadCsv's), columns matched by name as pandas reads them (a header field
   * `"note, internal"` is one column; others than the five are left out). It writes every record
   * as `line,<the five fields>,,` and every malformed one as `line,,,,,,reason,raw` into a numbered
   * CSV, which DuckDB reads (well-formed by construction) and COPYs to Parquet. rows = records:
   * the header and blank lines are not rows; every line of the file is accounted for.
   */
  async function extractOrders({ startDate: value, settleSeconds = 0 }: ExtractOrdersInput): Promise<FileRef> {
    const startDate = checkStartDate(value);
    const relativeFile = rawPath(startDate);
    const notFound = (file: string) => `input file not found: ${file} (orders-etl reads <data dir>/raw/orders_<startDate>.csv)`;
    const started = Date.now();
    const outDir = path.join(root, 'staging', 'orders-etl', startDate);
    const ref = await tracked(async (progress) => {
      if (settleSeconds > 0) {
        progress.step('wait for a settled file');
        await waitUntilSettled(root, relativeFile, settleSeconds * 1000, notFound);
      }
      const opened = await openDataFile(root, relativeFile, notFound);
      const file = opened.file;
      try {
        if (opened.info.size === 0) throw nonRetryable(`${file} is empty: not even a header`, 'EmptyFile');
        await mkdir(outDir, { recursive: true });
        logger.info({ startDate, file }, `Extracting from ${startDate}`);
        return await withWorkDir(async (work) => {
          progress.step('read records');
          const numbered = path.join(work, 'numbered.csv');
          progress.percent = () => Math.round((100 * opened.bytesRead()) / Math.max(1, opened.info.size));
          const read = await writeNumberedCsv(opened.chunks(), numbered, FLOW_CONTRACT, file);
          await opened.checkUnchanged();
          const extra = read.header.filter((name) => !ORDERS_COLUMNS.includes(name));
          if (extra.length) logger.warn({ file, extra }, 'extractOrders: ignoring columns that are not part of the orders schema');

          return withDuckdb(root, path.join(work, 'duckdb'), limits, async (db) => {
            progress.percent = db.percent;
            const tmp = tempBeside(outDir, 'extract');
            try {
              progress.step('read_csv to parquet');
              const struct = EXTRACT_SCHEMA.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ');
              const rows = await db.copy(
                `COPY (
                   SELECT * FROM read_csv($1, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"',
                                          new_line = '\\n', columns = {${struct}}, strict_mode = true,
                                          max_line_size = ${NUMBERED_LINE_BYTES})
                 ) TO $2 (FORMAT parquet, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
                [numbered, tmp],
              );
              if (rows !== read.rows) {
                throw nonRetryable(`extractOrders: ${file} has ${read.rows} records but ${rows} were staged`, 'CountMismatch');
              }
              progress.step('publish');
              return await publish(tmp, (sha) => path.join(outDir, `extract-${sha.slice(0, 16)}.parquet`), rows);
            } finally {
              await rm(tmp, { force: true });
            }
          });
        });
      } finally {
        await opened.handle.close();
      }
    });
    logger.info({ startDate, file: relativeFile, staged: ref.path, rows: ref.rows, ms: Date.now() - started }, 'extractOrders: staged');
    return ref;
  }

  /**
   * transform_data: the staged extract to a staged clean Parquet file (the schema loadOrders
   * writes) and `processed/<target>.rejects.csv` (written beside, then renamed), with
   * rowsIn = kept + dropped + rejected checked before anything is published.
   */
  async function transformOrders({ input, target: targetIn }: TransformOrdersInput): Promise<TransformOrdersResult> {
    const target = checkTarget(targetIn);
    const started = Date.now();
    const result = await tracked(async (progress) => {
      progress.step('verify input');
      const source = await stagedFile(input, 'transformOrders');
      logger.info({ target, input: input.path }, `Transforming ${input.rows} rows`);
      const stagingDir = path.join(root, 'staging', 'orders-etl', target);
      const processedDir = path.join(root, 'processed');
      await mkdir(stagingDir, { recursive: true });
      await mkdir(processedDir, { recursive: true });

      return withWorkDir((work) =>
        withDuckdb(root, path.join(work, 'duckdb'), limits, async (db) => {
          progress.percent = db.percent;
          await checkParquetSchema(db, source, EXTRACT_SCHEMA, 'transformOrders', 'a staged extract');
          await db.rows(JUDGED_MACRO);
          const cleanTmp = tempBeside(stagingDir, 'clean');
          const rejectsTmp = tempBeside(processedDir, `${target}.rejects.csv`);
          try {
            progress.step('write clean rows');
            const kept = await db.copy(
              `COPY (SELECT order_id, customer_id, order_date, amount_value AS amount, status, source_line
                     FROM judged($1) WHERE verdict = 'keep') TO $2 (FORMAT parquet, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
              [source, cleanTmp],
            );
            progress.step('write rejects');
            const rejected = await db.copy(
              `COPY (SELECT source_line, reason, order_id, customer_id, order_date, amount, status, malformed_raw AS raw
                     FROM judged($1) WHERE verdict = 'reject') TO $2 (FORMAT csv, HEADER true)`,
              [source, rejectsTmp],
            );
            progress.step('count');
            // The drops, counted apart from the two COPYs on the two columns that decide them (no
            // amount parsing): rows in = kept + dropped + rejected must then hold by itself.
            const [c] = await db.rows(
              `SELECT count(*) AS rows_in, count(*) FILTER (WHERE malformed_reason IS NULL AND (order_id IS NULL OR order_id IN (${PANDAS_NA}))) AS dropped
               FROM read_parquet($1)`,
              [source],
            );
            const rowsIn = input.rows;
            const dropped = Number(c.dropped);
            if (Number(c.rows_in) !== rowsIn || rowsIn !== kept + dropped + rejected) {
              throw nonRetryable(
                `transformOrders: rows do not reconcile for ${input.path}: rowsIn ${rowsIn} (file has ${c.rows_in}) != kept ${kept} + dropped ${dropped} + rejected ${rejected}`,
                'CountMismatch',
              );
            }
            progress.step('publish');
            const clean = await publish(cleanTmp, (sha) => path.join(stagingDir, `clean-${sha.slice(0, 16)}.parquet`), kept);
            const rejects = await publish(rejectsTmp, () => path.join(processedDir, `${target}.rejects.csv`), rejected);
            return { clean, rejects, rowsIn, kept, dropped, rejected };
          } finally {
            await rm(cleanTmp, { force: true });
            await rm(rejectsTmp, { force: true });
          }
        }),
      );
    });
    const { rowsIn, kept, dropped, rejected } = result;
    logger.info(
      { target, input: input.path, rowsIn, kept, dropped, rejected, clean: result.clean.path, rejects: result.rejects.path, ms: Date.now() - started },
      'transformOrders: sorted',
    );
    return result;
  }

  /**
   * load_data: the clean staged file to `processed/<target>.parquet`, replaced atomically (a
   * copy to a hidden temp file beside it, fsync, rename over it): a rerun replaces the file, and
   * a reader never sees half of one. The file is checked first: the columns are
   * ORDERS_PARQUET_SCHEMA (empty days included), no order_id is null, the rows are as many as
   * its reference says.
   */
  async function loadOrders({ input, target: targetIn }: LoadOrdersInput): Promise<FileRef> {
    const target = checkTarget(targetIn);
    const started = Date.now();
    const ref = await tracked(async (progress) => {
      progress.step('verify input');
      const source = await stagedFile(input, 'loadOrders');
      const processedDir = path.join(root, 'processed');
      await mkdir(processedDir, { recursive: true });

      return withWorkDir((work) =>
        withDuckdb(root, path.join(work, 'duckdb'), limits, async (db) => {
          progress.percent = db.percent;
          await checkParquetSchema(db, source, ORDERS_PARQUET_SCHEMA, 'loadOrders', 'a clean orders file');
          const [c] = await db.rows('SELECT count(*) AS n, count(*) FILTER (WHERE order_id IS NULL) AS null_ids FROM read_parquet($1)', [source]);
          if (Number(c.null_ids) > 0) {
            throw nonRetryable(`loadOrders: ${input.path} has ${c.null_ids} rows without order_id; order_id is NOT NULL`, 'NullOrderId');
          }
          const rows = Number(c.n);
          if (rows !== input.rows) {
            throw nonRetryable(`loadOrders: ${input.path} holds ${rows} rows, its reference says ${input.rows}`, 'CountMismatch');
          }
          const tmp = tempBeside(processedDir, `${target}.parquet`);
          try {
            // transform_data wrote the clean file in this very schema: loading is publishing a copy of it.
            progress.step('copy parquet');
            await copyFile(source, tmp);
            progress.step('publish');
            return await publish(tmp, () => path.join(processedDir, `${target}.parquet`), rows);
          } finally {
            await rm(tmp, { force: true });
          }
        }),
      );
    });
    logger.info({ target, file: ref.path, rows: ref.rows, bytes: ref.bytes, ms: Date.now() - started }, `Loaded ${ref.rows} rows to ${target}`);
    return ref;
  }

  return { extractOrders, transformOrders, loadOrders };
}
