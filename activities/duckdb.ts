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
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBValue, Json } from '@duckdb/node-api';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Config } from '../src/config';
import type { FileRef } from '../src/contracts';
import { parseDs } from '../src/logical-date';
import { withActivityContext } from '../src/logging';
import type { ColumnContract } from '../src/column-contract';
import { DEFAULT_MAX_RECORD_BYTES } from './csv';
import { writeNumberedCsv } from './csv-file';
import { openDataFile, ordersRawPath, sha256File, waitUntilSettled } from './files';
import { cancellationSignal, whileHeartbeating } from './heartbeat';

export type { FileRef };

export interface DuckdbDeps {
  logger: Logger;
  config: Pick<Config, 'dataDir'>;
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

export interface DuckdbLimits {
  /** DuckDB's memory_limit: beyond it DuckDB spills to its temp directory or waits. */
  memoryLimit: string;
  threads: number;
}

/**
 * What one activity call may use. DuckDB keeps Parquet output in file order by buffering
 * batches, so a call's memory is bounded by this limit and by the row group size (below),
 * however large the file: measured, the worker peaks alike at 1M and 5M rows.
 */
export const DUCKDB_LIMITS: DuckdbLimits = { memoryLimit: '256MB', threads: 2 };

/** Rows per Parquet row group: DuckDB's default (122,880) buffers four times as much per thread. */
const ROW_GROUP_SIZE = 32_768;

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
export const PANDAS_NA_VALUES = ['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null'];
const PANDAS_NA = PANDAS_NA_VALUES.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');

/** The longest numbered line: a record of at most the reader's limit with every byte a doubled quote, plus its line. */
const NUMBERED_LINE_BYTES = 2 * DEFAULT_MAX_RECORD_BYTES + 4096;

/** The flow's five columns, read by name as text: Prefect's flow judges them itself (transformOrders). */
const ORDERS_COLUMNS = ['order_id', 'customer_id', 'order_date', 'amount', 'status'];
const FLOW_CONTRACT: ColumnContract = {
  header: 'by-name',
  columns: ORDERS_COLUMNS.map((name) => ({ name, type: 'text', required: false, trim: false })),
};

/** extractOrders' staged file: the CSV's fields as text, each record with the line it starts on. */
const EXTRACT_SCHEMA = [
  ['source_line', 'BIGINT'],
  ...ORDERS_COLUMNS.map((name) => [name, 'VARCHAR'] as const),
  ['malformed_reason', 'VARCHAR'], // set for a record that cannot be read as fields (the rest are then NULL)
  ['malformed_raw', 'VARCHAR'],
] as const;

const TARGET = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

const nonRetryable = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

/** A string as a SQL literal; only for paths of our own making (user values are bound parameters). */
const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The activity's cancellation, as the error Temporal expects a cancelled activity to throw. */
function cancelled(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('activity cancelled');
}

/** What an activity asks of its DuckDB. */
interface DuckdbSession {
  /** Runs one statement with bound parameters; small results only (counts, schemas). */
  rows(sql: string, params?: DuckDBValue[]): Promise<Record<string, Json>[]>;
  /** Runs a COPY and returns how many rows it wrote. */
  copy(sql: string, params?: DuckDBValue[]): Promise<number>;
  /** Column names and types of a Parquet file, read from its footer. */
  parquetColumns(file: string): Promise<Map<string, string>>;
  /** The running statement's progress in percent, when DuckDB can tell. */
  percent(): number | undefined;
}

/**
 * DuckDB's API, loaded on first use: a worker that runs no DuckDB task never maps the library.
 * A require, not an import(): the compiled worker (src/build.ts) finds packages through NODE_PATH.
 */
function duckdbApi(): typeof import('@duckdb/node-api') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@duckdb/node-api') as typeof import('@duckdb/node-api');
}

/**
 * Runs `work` on a fresh in-memory DuckDB, held to `limits` and fenced into the data
 * directory, and closes it. One instance per activity call: its memory is returned when the
 * call ends, concurrent calls never share a temp directory, and the interrupt sent on
 * cancellation stops only this call's statement.
 */
async function withDuckdb<T>(root: string, tempDirectory: string, limits: DuckdbLimits, work: (db: DuckdbSession) => Promise<T>): Promise<T> {
  const signal = cancellationSignal();
  const { DuckDBInstance } = duckdbApi();
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: limits.memoryLimit,
    threads: String(limits.threads),
    temp_directory: tempDirectory,
    // Parquet and CSV are built in; never reach out for an extension.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  let connection: DuckDBConnection | undefined;
  const interrupt = () => connection?.interrupt();
  signal.addEventListener('abort', interrupt);
  try {
    connection = await instance.connect();
    const conn = connection;
    // Progress for the heartbeat, without DuckDB printing a bar on the worker's stdout.
    await conn.run('SET enable_progress_bar = true');
    await conn.run('SET enable_progress_bar_print = false');
    await conn.run('SET progress_bar_time = 0');
    // This DuckDB reads and writes under the data directory only, whatever a path says.
    await conn.run(`SET allowed_directories = [${sqlString(root + path.sep)}]`);
    await conn.run('SET enable_external_access = false');

    const run = async (sql: string, params?: DuckDBValue[]) => {
      if (signal.aborted) throw cancelled(signal);
      try {
        return await conn.runAndReadAll(sql, params);
      } catch (err) {
        // An interrupted statement fails with DuckDB's "INTERRUPT Error": report the cancellation.
        if (signal.aborted) throw cancelled(signal);
        throw err;
      }
    };
    return await work({
      rows: async (sql, params) => (await run(sql, params)).getRowObjectsJson(),
      copy: async (sql, params) => Number((await run(sql, params)).getRowObjectsJson()[0].Count),
      parquetColumns: async (file) => {
        const reader = await run('SELECT * FROM read_parquet($1) LIMIT 0', [file]);
        const types = reader.columnTypes();
        return new Map(reader.columnNames().map((name, i) => [name, types[i].toString()]));
      },
      percent: () => {
        const p = conn.progress.percentage;
        return p >= 0 ? Math.round(p) : undefined;
      },
    });
  } finally {
    signal.removeEventListener('abort', interrupt);
    connection?.closeSync();
    instance.closeSync();
  }
}

interface Progress {
  /** Names the step the activity is in now, and heartbeats it. */
  step(name: string): void;
  /** How far the current step is, in percent, when it can tell. */
  percent?: () => number | undefined;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (a script): nothing to keep alive.
  }
}

export function createDuckdbActivities({ logger, config, limits = DUCKDB_LIMITS }: DuckdbDeps) {
  const root = path.resolve(config.dataDir);
  const relative = (file: string) => path.relative(root, file).split(path.sep).join('/');

  /** `staging/.work/<uuid>`: one call's scratch space (numbered CSV, DuckDB's spill files), always removed. */
  async function withWorkDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = path.join(root, 'staging', '.work', randomUUID());
    await mkdir(dir, { recursive: true });
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Heartbeats `{ step, percent }` while the activity works, and once more at each new step
   * (the SDK throttles what it sends), so the history shows where a slow call spends its time.
   */
  function tracked<T>(work: (progress: Progress) => Promise<T>): Promise<T> {
    let current = 'start';
    const details = () => ({ step: current, percent: progress.percent?.() });
    const progress: Progress = {
      step: (name) => {
        current = name;
        heartbeat(details());
      },
    };
    return whileHeartbeating(work(progress), details);
  }

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
   * The staged file a FileRef names, checked: inside the data directory, still there, and
   * still the bytes it was made of (size and sha256), so a task never reads other rows than
   * the ones its input reference counted.
   */
  async function stagedFile(ref: FileRef, task: string): Promise<string> {
    if (!ref || typeof ref !== 'object' || typeof ref.path !== 'string' || typeof ref.sha256 !== 'string' || !Number.isInteger(ref.rows) || !Number.isInteger(ref.bytes)) {
      throw nonRetryable(`${task}: input must be a FileRef { path, rows, bytes, sha256 }, got ${JSON.stringify(ref)?.slice(0, 300)}`, 'InvalidFileRef');
    }
    const file = path.resolve(root, ref.path);
    if (path.isAbsolute(ref.path) || !file.startsWith(root + path.sep)) {
      throw nonRetryable(`${task}: input path ${JSON.stringify(ref.path)} is not inside the data directory ${root}`, 'InvalidPath');
    }
    const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
        throw nonRetryable(`${task}: staged file ${ref.path} is missing (${file}): run the task that made it again`, 'StagedFileMissing');
      }
      throw err;
    });
    if (!info.isFile()) throw nonRetryable(`${task}: staged file ${ref.path} is not a regular file (${file})`, 'StagedFileMissing');
    const sha256 = info.size === ref.bytes ? await sha256File(file) : undefined;
    if (sha256 !== ref.sha256) {
      throw nonRetryable(
        `${task}: staged file ${ref.path} changed since it was made: ${info.size} bytes${sha256 ? ` sha256 ${sha256}` : ''}, expected ${ref.bytes} bytes sha256 ${ref.sha256}`,
        'StagedFileChanged',
      );
    }
    return file;
  }

  /** Fails unless a Parquet file has `expected` columns with these types (others are allowed). */
  async function checkParquetSchema(db: DuckdbSession, file: string, expected: readonly (readonly [string, string])[], task: string, what: string): Promise<void> {
    const actual = await db.parquetColumns(file);
    const wrong = expected.filter(([name, type]) => actual.get(name) !== type);
    if (wrong.length) {
      const found = [...actual].map(([n, t]) => `${n} ${t}`).join(', ');
      throw nonRetryable(
        `${task}: ${relative(file)} is not ${what}: expected ${wrong.map(([n, t]) => `${n} ${t}`).join(', ')}; found ${found || 'no columns'}`,
        'WrongSchema',
      );
    }
  }

  /**
   * A written file made durable and moved into place: fsync, sha256, then rename to the name
   * `finalName` gives for its hash (a content-named staged file, or a fixed output name), and
   * fsync of the folder so the rename survives a crash. Readers see the old file or the new
   * one, never a part.
   */
  async function publish(tmp: string, finalName: (sha256: string) => string, rows: number): Promise<FileRef> {
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const sha256 = await sha256File(tmp);
    const { size } = await stat(tmp);
    const file = finalName(sha256);
    await rename(tmp, file);
    const folder = await open(path.dirname(file), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    return { path: relative(file), rows, bytes: size, sha256 };
  }

  /** A temp file name in `dir`, the folder of the file it becomes (so the rename is atomic), hidden by its leading dot. */
  const tempBeside = (dir: string, base: string) => path.join(dir, `.${base}.${randomUUID().slice(0, 8)}.tmp`);

  /**
   * extract_data: `raw/orders_<startDate>.csv` to a staged Parquet file of text columns.
   *
   * The file is read once, settled and unchanged, by the CSV reader both pipelines share
   * (activities/csv.ts), columns matched by name as pandas reads them (a header field
   * `"note, internal"` is one column; others than the five are left out). It writes every record
   * as `line,<the five fields>,,` and every malformed one as `line,,,,,,reason,raw` into a numbered
   * CSV, which DuckDB reads (well-formed by construction) and COPYs to Parquet. rows = records:
   * the header and blank lines are not rows; every line of the file is accounted for.
   */
  async function extractOrders({ startDate: value, settleSeconds = 0 }: ExtractOrdersInput): Promise<FileRef> {
    const startDate = checkStartDate(value);
    const relativeFile = ordersRawPath(startDate);
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
        withActivityContext(logger).info({ startDate, file }, `Extracting from ${startDate}`);
        return await withWorkDir(async (work) => {
          progress.step('read records');
          const numbered = path.join(work, 'numbered.csv');
          progress.percent = () => Math.round((100 * opened.bytesRead()) / Math.max(1, opened.info.size));
          const read = await writeNumberedCsv(opened.chunks(), numbered, FLOW_CONTRACT, file);
          await opened.checkUnchanged();
          const extra = read.header.filter((name) => !ORDERS_COLUMNS.includes(name));
          if (extra.length) withActivityContext(logger).warn({ file, extra }, 'extractOrders: ignoring columns that are not part of the orders schema');

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
    withActivityContext(logger).info({ startDate, file: relativeFile, staged: ref.path, rows: ref.rows, ms: Date.now() - started }, 'extractOrders: staged');
    return ref;
  }

  /**
   * Sorts each staged row, in SQL, into kept, dropped or rejected (the first that applies):
   *   rejected  a malformed CSV record, with its reason
   *   dropped   order_id missing: one of pandas' missing values ('', NA, N/A, NULL, None, nan,
   *             NaN, #N/A, <NA>, ...), as Prefect's dropna(subset=["order_id"])
   *   rejected  an amount that is not a finite decimal number ("12.50", "-3", "1e3", " 7 ")
   *   kept      everything else; an amount pandas reads as NaN is kept as NULL
   * Kept rows keep their text as written (no trimming): only `amount` changes type.
   */
  const JUDGED_MACRO = String.raw`
    CREATE TEMP MACRO judged(src) AS TABLE
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
        CASE WHEN regexp_full_match(amount, '\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*')
             THEN TRY_CAST(regexp_replace(amount, '^\s+|\s+$', '', 'g') AS DOUBLE) END AS amount_value
      FROM read_parquet(src)
    )`;

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
      withActivityContext(logger).info({ target, input: input.path }, `Transforming ${input.rows} rows`);
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
    withActivityContext(logger).info({ target, input: input.path, rowsIn, kept, dropped, rejected, clean: result.clean.path, rejects: result.rejects.path, ms: Date.now() - started }, 'transformOrders: sorted');
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
    withActivityContext(logger).info({ target, file: ref.path, rows: ref.rows, bytes: ref.bytes, ms: Date.now() - started }, `Loaded ${ref.rows} rows to ${target}`);
    return ref;
  }

  return { extractOrders, transformOrders, loadOrders };
}
