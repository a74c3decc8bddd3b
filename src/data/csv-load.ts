/**
 * CSV into Postgres under a column contract: the reader splits each record, the contract checks
 * its fields in place, and two COPY streams run side by side, the good rows into the day's table
 * (typed, shaped as the partition it will become) and the rejects, each with its line, lines,
 * rule, reason and raw text. Nothing is parsed into objects; Postgres receives COPY text.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { validateContract, type ColumnContract } from '../column-contract';
import { compileContract, HeaderError, writeReject, type CompiledContract } from './contract';
import { CopyWriter } from './copy-writer';
import { readCsv, type CsvLineAccount } from './csv';
import { RepeatedKeys } from './repeated-keys';
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
}

export interface StageCsvOptions {
  pool: Pool;
  source: AsyncIterable<Buffer>;
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
  maxRecordBytes?: number;
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
 * is a non-retryable WrongHeader naming line 1, before a row is written.
 */
export async function stageCsv(options: StageCsvOptions): Promise<StagedCsv> {
  const { contract, ds, name } = options;
  validateContract(contract); // its column names go into the COPY statement below
  const columns = [...contract.columns.map((c) => c.name), 'source_line', 'source_lines'].join(', ');
  let compiled: CompiledContract | undefined;
  let repeatedKeys: RepeatedKeys | undefined;
  const good = new CopyWriter();
  const bad = new CopyWriter();
  let loaded = 0;
  let rejected = 0;
  let loadedLines = 0;
  let rejectedLines = 0;

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
          }
        }),
      ),
    ),
  );

  async function stageKeyCandidates(client: PoolClient, table: string): Promise<number | undefined> {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    const found = repeatedKeys?.keys();
    if (!found) return undefined;
    const keyColumns = contract.key!.columns.join(', ');
    await client.query(`CREATE TABLE ${table} AS SELECT ${keyColumns} FROM ${options.goodTable.name} WITH NO DATA`);
    const sink = new CopySink(client, `COPY ${table} (${keyColumns}) FROM STDIN WITH (FREEZE)`);
    await sink.write(found.rows);
    const rows = await sink.end();
    if (rows !== found.count) throw new Error(`${table}: ${rows} key candidates staged of ${found.count}`);
    return rows;
  }

  async function copyThrough(goodSink: CopySink, badSink: CopySink): Promise<StagedCsv> {
    let bytes = 0;
    const counted = async function* () {
      for await (const chunk of options.source) {
        bytes += chunk.length;
        options.onProgress?.(bytes);
        yield chunk;
      }
    };
    const result = await readCsv(counted(), {
      maxRecordBytes: options.maxRecordBytes,
      signal: cancellationSignal(),
      header(record, problem) {
        const line = record.line;
        if (problem) throw ApplicationFailure.nonRetryable(`${name}: line ${line}: the header is malformed: ${problem}`, 'WrongHeader');
        try {
          compiled = compileContract(contract, record.texts(), ds);
          if (options.keyCandidates && compiled.keyText) repeatedKeys = new RepeatedKeys();
        } catch (err) {
          if (err instanceof HeaderError) throw ApplicationFailure.nonRetryable(`${name}: line ${line}: ${err.message}`, err.type);
          throw err;
        }
      },
      record(record) {
        const reject = compiled!.write(record, good);
        if (reject === undefined) {
          repeatedKeys?.add(good.bytes, compiled!.keyText!);
          loaded++;
          loadedLines += record.lines;
        } else {
          rejected++;
          rejectedLines += record.lines;
          writeReject(bad, record.line, record.lines, reject.rule, reject.reason, record.raw());
        }
      },
      malformed(line, kind, reason, raw) {
        rejected++;
        rejectedLines++;
        writeReject(bad, line, 1, `malformed: ${kind}`, reason, raw);
      },
      async drain() {
        await Promise.all([goodSink.write(good.take()), badSink.write(bad.take())]);
      },
    });
    if (result.header === 0) {
      throw ApplicationFailure.nonRetryable(
        `${name}: line 1: wrong header: expected "${contract.columns.map((c) => c.name).join(',')}", found (empty file)`,
        'WrongHeader',
      );
    }
    const [goodRows, badRows] = await Promise.all([goodSink.end(), badSink.end()]);
    const { bytes: _bytes, ...account } = result;
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
    return { account, bytes, records, loaded, rejected, loadedLines, rejectedLines };
  }
}
