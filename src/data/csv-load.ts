/**
 * CSV into Postgres under a column contract: the reader splits each record, the contract checks
 * its fields in place, and two COPY streams run side by side, the good rows into the day's table
 * (typed, shaped as the partition it will become) and the rejects, each with its line, lines,
 * rule, reason and raw text. Nothing is parsed into objects; Postgres receives COPY text.
 */
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { finished } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { validateContract, type ColumnContract } from '../column-contract';
import { compileContract, HeaderError } from './contract';
import { DEFAULT_MAX_RECORD_BYTES, readCsv, SplitMismatch, type CsvLineAccount } from './csv';
import { SecondPart, windowBytes, type SecondPartResult, type SplitPoint } from './csv-split';
import { filterWords, MAX_BYTES, RepeatedKeys, sharedFilter } from './repeated-keys';
import { StagingPart, type PartCounts } from './staging-part';
import { inTransaction, withClient } from './connections';
import { cancellationSignal } from './heartbeat';

/** What every line of the input became. */
export interface StagedCsv {
  account: CsvLineAccount;
  bytes: number;
  /** Records: loaded + rejected. */
  records: number;
  loaded: number;
  rejected: number;
  loadedLines: number;
  rejectedLines: number;
  /** Rows written to `keyCandidates`' table; absent when none was asked for, or the search was given up (RepeatedKeys). */
  keyCandidates?: number;
  /** Where the second part began, for a file read in two parts at once. */
  split?: SplitPoint;
}

export interface StageCsvOptions {
  pool: Pool;
  /** The input's chunks, or a file (OpenedFile) that may be read in two parts. */
  source: AsyncIterable<Buffer> | SplittableFile;
  /** What the messages call the input: a file's path, or `<conn>:<schema>.<table>` for a COPY out of a database. */
  name: string;
  contract: ColumnContract;
  ds: string;
  /** Creates the good rows' table (empty, in the COPY's transaction) and names it. */
  goodTable: { name: string; create: (client: PoolClient) => Promise<void> };
  /** The rejects' table: line, lines, rule, reason, raw. */
  rejectsTable: string;
  /**
   * A table made (in the good rows' transaction) of the good records' keys that may repeat an
   * earlier one's, byte for byte, for a contract whose key is of required text columns. Every
   * repeated key is there, with a few that are not; a key rule searches for those keys only. Its
   * columns are the key's, as the good rows' table has them. For any other key, or once the
   * search is given up, the table is dropped and `keyCandidates` is absent from the result.
   */
  keyCandidates?: string;
  /** Past this many bytes of candidates the search is given up (16 MiB). */
  keyCandidatesMaxBytes?: number;
  maxRecordBytes?: number;
  /** A file this size or larger is read in two parts (by default SPLIT_FROM_BYTES on 4 cores or more, else never). */
  splitFromBytes?: number;
  /** Called with the bytes read so far, for the heartbeat. */
  onProgress?: (bytes: number) => void;
}

/** A COPY FROM STDIN that is written to with backpressure and fails the load on its first error. */
class CopySink {
  private error?: Error;
  private readonly done: Promise<void>;
  private readonly stream: ReturnType<typeof copyFrom>;

  constructor(client: PoolClient, sql: string) {
    this.stream = client.query(copyFrom(sql));
    this.done = finished(this.stream);
    this.done.catch((err: Error) => (this.error ??= err));
  }

  async write(rows: Buffer): Promise<void> {
    if (this.error) throw this.error;
    if (rows.length && !this.stream.write(rows)) await Promise.race([once(this.stream, 'drain'), this.done]);
    if (this.error) throw this.error;
  }

  async end(): Promise<number> {
    this.stream.end();
    await this.done;
    return this.stream.rowCount;
  }

  /** Rolls the COPY back (CopyFail), so that the connection can run ROLLBACK. */
  async abort(reason: Error): Promise<void> {
    if (!this.stream.destroyed) this.stream.destroy(reason);
    await this.done.catch(() => undefined);
  }
}

const REJECTS_COLUMNS = '(line, lines, rule, reason, raw)';

/** A share as a refused load states it: `66.7%`. */
export const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

/** The three most common rules of a rejects table, with their counts: what a refused load names. */
export async function mostCommonRejects(client: PoolClient, rejectsTable: string): Promise<string> {
  const { rows } = await client.query<{ rule: string; n: string }>(
    `SELECT rule, count(*) AS n FROM ${rejectsTable} GROUP BY rule ORDER BY count(*) DESC, rule LIMIT 3`,
  );
  return rows.map((r) => `${r.rule} (${r.n})`).join(', ');
}

/** Creates the rejects' staging table. */
export async function createRejectsTable(client: PoolClient, table: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (line integer NOT NULL, lines integer NOT NULL, rule text NOT NULL, reason text NOT NULL, raw text NOT NULL)`);
}

/**
 * Streams `source` through the reader and the contract into the two tables, each created and
 * filled in one transaction; both commit only once every line is accounted for. A wrong header
 * is a non-retryable WrongHeader naming line 1, before a row is written. A file of
 * `splitFromBytes` or more is read in two parts at once, one on each core (src/data/csv-split.ts),
 * with the same rows, rejects, lines and counts.
 */
export async function stageCsv(options: StageCsvOptions): Promise<StagedCsv> {
  validateContract(options.contract); // its column names go into the COPY statement below
  const { source } = options;
  const split = isSplittable(source) && source.size >= (options.splitFromBytes ?? defaultSplitFromBytes());
  try {
    return await stageOnce(options, split);
  } catch (err) {
    // Never expected (csv-split.ts proves the split point): the file is read again in one part.
    if (err instanceof SplitMismatch) return stageOnce(options, false);
    throw err;
  }
}

/** A file stageCsv may read in two parts: its descriptor, size and chunks. */
export interface SplittableFile {
  fd: number;
  size: number;
  /** The bytes from `from` to `to` (the file's end by default), counted as read; from 0, the count starts again. */
  chunks(from?: number, to?: number): AsyncIterable<Buffer>;
  /** Counts bytes another thread read. */
  counted(bytes: number): void;
}

const isSplittable = (source: StageCsvOptions['source']): source is SplittableFile => 'fd' in source && typeof source.fd === 'number';

/** Files this size or larger are read in two parts (a thread takes some 100 ms to load). */
export const SPLIT_FROM_BYTES = 16 << 20;

/**
 * Two parts need a core each and Postgres one more to take their rows: on fewer than 4 cores the
 * second thread only competes with Postgres and the read is slower (measured on 2 cores: 1.12–1.29 s
 * in one part, 1.54–1.61 s in two, for 1M rows; bench/README.md), so a file is read in one part there.
 */
export const defaultSplitFromBytes = () => (availableParallelism() >= 4 ? SPLIT_FROM_BYTES : Infinity);

async function stageOnce(options: StageCsvOptions, split: boolean): Promise<StagedCsv> {
  const { contract, ds, name } = options;
  const columns = [...contract.columns.map((c) => c.name), 'source_line', 'source_lines'].join(', ');
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  // The key filter sized to the file (a stream's size is unknown: the largest), shared by both parts of a split file.
  const words = filterWords(isSplittable(options.source) ? options.source.size : undefined);
  const filter = split && options.keyCandidates ? sharedFilter(words) : undefined;
  let part: StagingPart | undefined;
  let second: SecondPart | undefined;
  let secondKeys: SecondPartResult['keys'];

  return withClient(options.pool, (goodClient) =>
    withClient(options.pool, (badClient) =>
      inTransaction(goodClient, () =>
        inTransaction(badClient, async () => {
          await options.goodTable.create(goodClient);
          await createRejectsTable(badClient, options.rejectsTable);
          // FREEZE: the table was made in this transaction, so its rows are written frozen (no later rewrite of hint bits).
          const goodSink = new CopySink(goodClient, `COPY ${options.goodTable.name} (${columns}) FROM STDIN WITH (FREEZE)`);
          const badSink = new CopySink(badClient, `COPY ${options.rejectsTable} ${REJECTS_COLUMNS} FROM STDIN WITH (FREEZE)`);
          try {
            const staged = await copyThrough(goodSink, badSink);
            if (options.keyCandidates) staged.keyCandidates = await stageKeyCandidates(goodClient, options.keyCandidates);
            return staged;
          } catch (err) {
            await Promise.all([goodSink.abort(err as Error), badSink.abort(err as Error)]);
            throw err;
          } finally {
            await second?.close();
          }
        }),
      ),
    ),
  );

  async function stageKeyCandidates(client: PoolClient, table: string): Promise<number | undefined> {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    const found = part?.keys?.keys();
    if (!found || secondKeys === null) return undefined;
    const rows = secondKeys ? [found.rows, Buffer.from(secondKeys.rows.buffer, secondKeys.rows.byteOffset, secondKeys.rows.byteLength)] : [found.rows];
    const count = found.count + (secondKeys?.count ?? 0);
    if (rows.reduce((n, r) => n + r.length, 0) > (options.keyCandidatesMaxBytes ?? MAX_BYTES)) return undefined;
    const keyColumns = contract.key!.columns.join(', ');
    await client.query(`CREATE TABLE ${table} AS SELECT ${keyColumns} FROM ${options.goodTable.name} WITH NO DATA`);
    const sink = new CopySink(client, `COPY ${table} (${keyColumns}) FROM STDIN WITH (FREEZE)`);
    for (const r of rows) await sink.write(r);
    const staged = await sink.end();
    if (staged !== count) throw new Error(`${table}: ${staged} key candidates staged of ${count}`);
    return staged;
  }

  async function copyThrough(goodSink: CopySink, badSink: CopySink): Promise<StagedCsv> {
    let bytes = 0;
    const progress = (n: number) => {
      bytes += n;
      options.onProgress?.(bytes);
    };
    const file = split ? (options.source as SplittableFile) : undefined;
    const from = file ? Math.floor(file.size / 2) : 0;
    if (file) {
      second = new SecondPart(
        {
          fd: file.fd,
          size: file.size,
          from,
          until: from + 4 * windowBytes(maxRecordBytes),
          maxRecordBytes,
          contract,
          ds,
          filter,
          keysMaxBytes: options.keyCandidatesMaxBytes ?? MAX_BYTES,
        },
        async (good, bad, n) => {
          file.counted(n);
          progress(n);
          await Promise.all([goodSink.write(good), badSink.write(bad)]);
        },
      );
    }
    let headerSent = false;
    let splitAt: SplitPoint | undefined;
    const counted = async function* () {
      const { source } = options;
      const chunks = file ? firstPart(file) : isSplittable(source) ? source.chunks() : source;
      for await (const chunk of chunks) {
        progress(chunk.length);
        yield chunk;
      }
    };
    async function* firstPart(f: SplittableFile) {
      yield* f.chunks(0, from);
      if (!headerSent) second!.header(undefined);
      splitAt = await second!.split;
      if (!splitAt) {
        // No split point (or a thread that could not start): this part reads on to the end alone.
        await second!.close();
        second = undefined;
      }
      yield* f.chunks(from, splitAt?.at);
    }
    const result = await readCsv(counted(), {
      maxRecordBytes,
      signal: cancellationSignal(),
      header(record, problem) {
        const line = record.line;
        if (problem) throw ApplicationFailure.nonRetryable(`${name}: line ${line}: the header is malformed: ${problem}`, 'WrongHeader');
        try {
          const texts = record.texts();
          const compiled = compileContract(contract, texts, ds);
          const keys = options.keyCandidates && compiled.keyText ? new RepeatedKeys(options.keyCandidatesMaxBytes ?? MAX_BYTES, filter ?? words) : undefined;
          part = new StagingPart(compiled, keys);
          if (second && !headerSent) second.header(record.lines === 1 ? { texts, line, fields: texts.length } : undefined);
          headerSent = true;
        } catch (err) {
          if (err instanceof HeaderError) throw ApplicationFailure.nonRetryable(`${name}: line ${line}: ${err.message}`, err.type);
          throw err;
        }
      },
      record: (record) => part!.record(record),
      malformed(line, kind, reason, raw) {
        // The reader reads the header first, so `part` is there before any record.
        part!.malformed(line, kind, reason, raw);
      },
      async drain() {
        if (second?.error) throw second.error;
        if (part) await Promise.all([goodSink.write(part.good.take()), badSink.write(part.bad.take())]);
      },
      endsAtSplit: () => splitAt !== undefined,
    });
    if (result.header === 0) {
      throw ApplicationFailure.nonRetryable(
        `${name}: line 1: wrong header: expected "${contract.columns.map((c) => c.name).join(',')}", found (empty file)`,
        'WrongHeader',
      );
    }
    const account: CsvLineAccount = (({ bytes: _bytes, ...rest }) => rest)(result);
    const counts = part!.counts();
    if (splitAt) {
      const rest = await second!.done;
      for (const key of Object.keys(account) as (keyof CsvLineAccount)[]) account[key] += rest.account[key];
      for (const key of Object.keys(counts) as (keyof PartCounts)[]) counts[key] += rest.counts[key];
      secondKeys = rest.keys;
    }
    const { loaded, rejected, loadedLines, rejectedLines } = counts;
    const [goodRows, badRows] = await Promise.all([goodSink.end(), badSink.end()]);
    const records = account.records + account.malformed;
    if (
      goodRows !== loaded ||
      badRows !== rejected ||
      loaded + rejected !== records ||
      account.lines !== account.header + account.blank + loadedLines + rejectedLines
    ) {
      throw ApplicationFailure.nonRetryable(
        `${name}: lines do not add up: ${account.lines} lines = ${account.header} header + ${account.blank} blank + ${loadedLines} loaded + ${rejectedLines} rejected; ${records} records, ${goodRows} rows and ${badRows} rejects staged`,
        'CountMismatch',
      );
    }
    return { account, bytes, records, loaded, rejected, loadedLines, rejectedLines, ...(splitAt ? { split: splitAt } : {}) };
  }
}
