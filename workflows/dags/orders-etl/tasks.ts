/**
 * DuckDB: the files of the Prefect flow `orders-etl`. Tasks hand each other a FileRef (path,
 * rows, bytes, sha256), never the data, and rows never become JS objects: memory stays within a
 * chunk and DUCKDB_LIMITS whatever the file's size.
 *
 *   raw/orders_<startDate>.csv
 *     extractOrders   -> staging/orders-etl/<startDate>/extract-<sha16>.csv    each record after its line, fields as text
 *     transformOrders -> staging/orders-etl/<target>/clean-<sha16>.parquet     rows kept, amount as DOUBLE
 *                      + processed/<target>.rejects.csv                        rows refused, with line and reason
 *     loadOrders      -> processed/<target>.parquet                            replaced atomically
 *
 * The CSV is parsed once, by DuckDB in transformOrders: extract only numbers a plain file's
 * lines (the CSV reader reads any other), and the rows are written once, as the clean Parquet.
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
  stagedFiles,
  numberedCsvSql,
  tracked,
  waitUntilSettled,
  withDuckdb,
  writeNumberedCsv,
  type DuckdbLimits,
  type DuckdbSession,
} from 'baton/task';
import type { FileRef, StagedExtract } from './contract';
import { EXTRACT_SCHEMA, FLOW_CONTRACT, judgedSql, maybeNotKeptSql, ORDERS_COLUMNS, ORDERS_PARQUET_SCHEMA, ROW_GROUP_SIZE, surelyKept, TARGET } from './schema';

export type { FileRef, StagedExtract };

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
  input: StagedExtract;
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
   * extract_data: `raw/orders_<startDate>.csv` to a staged numbered CSV: each record after the
   * line it starts on, its fields as text, and each malformed record as a row with its reason.
   *
   * The file is read once, settled and unchanged. A plain file (no quote, CR or NUL) is numbered
   * line by line, its records copied as they are; any other is read by the CSV reader both
   * pipelines share (Baton's, as loadCsv's), and that is the only difference: the fuzz test holds
   * both to Python's csv. Columns are matched by name as pandas reads them (a header field
   * `"note, internal"` is one column; others than the five are left out). rows = records +
   * malformed: the header and blank lines are not rows; every line of the file is accounted for.
   */
  async function extractOrders({ startDate: value, settleSeconds = 0 }: ExtractOrdersInput): Promise<StagedExtract> {
    const startDate = checkStartDate(value);
    const relativeFile = rawPath(startDate);
    const notFound = (file: string) => `input file not found: ${file} (orders-etl reads <data dir>/raw/orders_<startDate>.csv)`;
    const started = Date.now();
    const outDir = path.join(root, 'staging', 'orders-etl', startDate);
    const { ref, path: readBy } = await tracked(async (progress) => {
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
        const tmp = tempBeside(outDir, 'extract');
        const unsureTmp = tempBeside(outDir, 'unsure');
        try {
          progress.step('read records');
          progress.percent = () => Math.round((100 * opened.bytesRead()) / Math.max(1, opened.info.size));
          const read = await writeNumberedCsv(() => opened.chunks(), tmp, FLOW_CONTRACT, file, { unsure: { output: unsureTmp, sure: surelyKept } });
          await opened.checkUnchanged();
          const extra = read.header.filter((name) => !ORDERS_COLUMNS.includes(name));
          if (extra.length) logger.warn({ file, extra }, 'extractOrders: ignoring columns that are not part of the orders schema');
          progress.step('publish');
          const staged = await publish(tmp, (sha) => path.join(outDir, `extract-${sha.slice(0, 16)}.csv`), read.rows, read.written);
          const unsure =
            read.unsure && (await publish(unsureTmp, (sha) => path.join(outDir, `unsure-${sha.slice(0, 16)}.csv`), read.unsure.rows, read.unsure.written));
          return { ref: { ...staged, fields: read.fields, positions: read.positions, ...(unsure ? { unsure } : {}) }, path: read.path };
        } finally {
          await rm(tmp, { force: true });
          await rm(unsureTmp, { force: true });
        }
      } finally {
        await opened.handle.close();
      }
    });
    logger.info({ startDate, file: relativeFile, staged: ref.path, rows: ref.rows, readBy, ms: Date.now() - started }, 'extractOrders: staged');
    return ref;
  }

  /**
   * The staged extract's rows as a query of EXTRACT_SCHEMA's columns, the file bound as $1: a
   * numbered CSV read by its layout, or the Parquet file an earlier version staged.
   */
  async function extractedRows(db: DuckdbSession, file: string, input: StagedExtract): Promise<string> {
    if (input.path.endsWith('.parquet')) {
      await checkParquetSchema(db, file, EXTRACT_SCHEMA, 'transformOrders', 'a staged extract');
      return 'SELECT * FROM read_parquet($1)';
    }
    try {
      return numberedCsvSql({ fields: input.fields ?? ORDERS_COLUMNS.length, positions: input.positions ?? ORDERS_COLUMNS.map((_, i) => i) }, ORDERS_COLUMNS);
    } catch (err) {
      throw nonRetryable(`transformOrders: ${input.path}: ${(err as Error).message}`, 'InvalidFileRef');
    }
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
      const [source, unsure] = await Promise.all([
        stagedFile(input, 'transformOrders'),
        input.unsure === undefined ? undefined : stagedFile(input.unsure, 'transformOrders'),
      ]);
      logger.info({ target, input: input.path }, `Transforming ${input.rows} rows`);
      const stagingDir = path.join(root, 'staging', 'orders-etl', target);
      const processedDir = path.join(root, 'processed');
      await mkdir(stagingDir, { recursive: true });
      await mkdir(processedDir, { recursive: true });

      return withWorkDir((work) =>
        withDuckdb(root, path.join(work, 'duckdb'), limits, async (db) => {
          progress.percent = db.percent;
          const extracted = await extractedRows(db, source, input);
          const cleanTmp = tempBeside(stagingDir, 'clean');
          const rejectsTmp = tempBeside(processedDir, `${target}.rejects.csv`);
          try {
            progress.step('write clean rows');
            const kept = await db.copy(
              `COPY (SELECT order_id, customer_id, order_date, amount_value AS amount, status, source_line
                     FROM (${judgedSql(extracted)}) WHERE verdict = 'keep') TO $2 (FORMAT parquet, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
              [source, cleanTmp],
            );
            // The rows not kept, judged the same way: from the rows extract was not sure of, or from a
            // second read that passes over every row that is surely kept (a few of the file's rows,
            // held by DuckDB within its limits).
            progress.step('write rejects');
            const doubtful = judgedSql(unsure ? extracted : maybeNotKeptSql(extracted));
            await db.rows(
              `CREATE TEMP TABLE not_kept AS
               SELECT source_line, verdict, reason, order_id, customer_id, order_date, amount, status, malformed_raw
               FROM (${doubtful}) WHERE verdict <> 'keep'`,
              [unsure ?? source],
            );
            const rejected = await db.copy(
              `COPY (SELECT source_line, reason, order_id, customer_id, order_date, amount, status, malformed_raw AS raw
                     FROM not_kept WHERE verdict = 'reject' ORDER BY source_line) TO $1 (FORMAT csv, HEADER true)`,
              [rejectsTmp],
            );
            const [c] = await db.rows(`SELECT count(*) AS not_kept, count(*) FILTER (WHERE verdict = 'drop') AS dropped FROM not_kept`);
            // Every row the extract counted is kept, dropped or rejected, once: the two reads agree with it.
            const rowsIn = input.rows;
            const dropped = Number(c.dropped);
            if (rowsIn !== kept + dropped + rejected || Number(c.not_kept) !== dropped + rejected) {
              throw nonRetryable(
                `transformOrders: rows do not reconcile for ${input.path}: rowsIn ${rowsIn} != kept ${kept} + dropped ${dropped} + rejected ${rejected}`,
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
            // transform_data wrote the clean file in this very schema: loading is publishing a copy
            // of it, whose bytes (and so hash) are the ones just checked against its reference.
            progress.step('copy parquet');
            await copyFile(source, tmp);
            progress.step('publish');
            return await publish(tmp, () => path.join(processedDir, `${target}.parquet`), rows, { bytes: input.bytes, sha256: input.sha256 });
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
