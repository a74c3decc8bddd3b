/**
 * A CSV file as a numbered CSV for DuckDB: each record led by the line it starts on, and every
 * malformed record as a row with its reason and raw text. DuckDB then reads a file that is
 * well-formed by construction, so no row can be lost or re-numbered on the way to Parquet.
 *
 * Two ways to the same rows: a plain file (no quote, CR or NUL; src/data/plain-lines.ts) is
 * numbered line by line, its records copied whole with the file's own columns; any other file is
 * read by the CSV reader, which writes the contract's columns. `numberedCsvSql` reads either.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { ColumnContract } from '../column-contract';
import { HeaderError, matchHeader } from './contract';
import { CopyWriter } from './copy-writer';
import { DEFAULT_MAX_RECORD_BYTES, quotedField, readCsv, type CsvLineAccount, type CsvRecord } from './csv';
import { cancellationSignal } from './heartbeat';
import { writePlainLines } from './plain-lines';

/** How a numbered CSV's rows are laid out: `line, <fields>, malformed_reason, malformed_raw`. */
export interface NumberedLayout {
  /** Fields between the line and the malformed reason. */
  fields: number;
  /** For each column of the contract, its field (0-based). */
  positions: number[];
}

export interface NumberedFile extends NumberedLayout {
  account: CsvLineAccount;
  bytes: number;
  /** Rows written: records + malformed records. */
  rows: number;
  malformed: number;
  /** The header as read: names in file order. */
  header: string[];
  /** The numbered file's size and sha256, computed while writing it. */
  written: { bytes: number; sha256: string };
  /** `plain` when the file was numbered line by line; otherwise why the reader read it. */
  path: 'plain' | string;
  /** The plain path's second output (options.unsure): its rows, size and sha256. */
  unsure?: { rows: number; written: { bytes: number; sha256: string } };
}

export interface NumberedCsvOptions {
  maxRecordBytes?: number;
  /**
   * On the plain path, the rows that need a closer look written again to `output`: every record
   * `sure` does not vouch for (given the record's bytes and the spans of the contract's columns,
   * in its order) and every malformed one. The reader's path writes none.
   */
  unsure?: { output: string; sure(buf: Buffer, starts: Int32Array, ends: Int32Array): boolean };
}


/** The header matched by the contract; a wrong one is a non-retryable failure naming the file. */
function positionsOf(contract: ColumnContract, header: string[], name: string): number[] {
  try {
    return matchHeader(contract, header);
  } catch (err) {
    if (err instanceof HeaderError) throw ApplicationFailure.nonRetryable(`${name}: ${err.message}`, err.type);
    throw err;
  }
}

/**
 * Writes `source` to `output` as numbered rows (no header): `line,<fields>,,` for a record and
 * `line,<empty fields>,reason,raw` for a malformed one. The header is matched by the contract
 * (by name); a wrong one is a non-retryable failure naming `name` and its line, before a row is
 * written. Given a function that opens the source (again), a plain file takes the fast path and
 * keeps its own columns; otherwise the reader writes the contract's columns.
 */
export async function writeNumberedCsv(
  source: AsyncIterable<Buffer> | (() => AsyncIterable<Buffer>),
  output: string,
  contract: ColumnContract,
  name: string,
  { maxRecordBytes = DEFAULT_MAX_RECORD_BYTES, unsure }: NumberedCsvOptions = {},
): Promise<NumberedFile> {
  let path = 'the source can be read only once';
  if (typeof source === 'function') {
    let positions: number[] = [];
    const plain = await writePlainLines(source(), output, {
      maxRecordBytes,
      signal: cancellationSignal(),
      header(fields) {
        positions = positionsOf(contract, fields.map((h) => h.trim()), name);
        return positions;
      },
      ...(unsure ? { unsure } : {}),
    });
    if (plain.plain) {
      if (plain.account.header === 0) throw ApplicationFailure.nonRetryable(`${name} is empty: not even a header`, 'EmptyFile');
      const { plain: _plain, header, ...rest } = plain;
      return { ...rest, header: header.map((h) => h.trim()), fields: header.length, positions, path: 'plain' };
    }
    path = plain.reason;
  }
  return readNumbered(typeof source === 'function' ? source() : source, output, contract, name, maxRecordBytes, path);
}

async function readNumbered(
  source: AsyncIterable<Buffer>,
  output: string,
  contract: ColumnContract,
  name: string,
  maxRecordBytes: number,
  path: string,
): Promise<NumberedFile> {
  const out = createWriteStream(output);
  const hash = createHash('sha256');
  let written = 0;
  const done = finished(out);
  done.catch(() => undefined);
  let positions: number[] = [];
  /** The file's columns are exactly the contract's, in its order. */
  let inOrder = false;
  let header: string[] = [];
  const rowsOut = new CopyWriter();
  let rows = 0;
  let malformed = 0;
  const columns = contract.columns.length;
  const empties = ','.repeat(columns);
  try {
    const result = await readCsv(source, {
      maxRecordBytes,
      signal: cancellationSignal(),
      header(record: CsvRecord, problem) {
        if (problem) throw ApplicationFailure.nonRetryable(`${name}: line ${record.line}: the header is malformed: ${problem}`, 'WrongHeader');
        header = record.texts().map((h) => h.trim());
        positions = positionsOf(contract, header, name);
        inOrder = header.length === positions.length && positions.every((p, i) => p === i);
      },
      record(record) {
        rows++;
        rowsOut.uint(record.line);
        if (inOrder && !record.quoted) {
          // The common record: no quote and the columns as the contract has them, so its bytes are the row.
          rowsOut.byte(0x2c);
          rowsOut.plain(record.buf, record.rawStart, record.rawEnd);
          rowsOut.byte(0x2c);
          rowsOut.byte(0x2c);
          rowsOut.byte(0x0a);
          return;
        }
        for (let c = 0; c < columns; c++) {
          const f = positions[c];
          rowsOut.byte(0x2c);
          rowsOut.csvField(record.source(f), record.starts[f], record.ends[f]);
        }
        rowsOut.byte(0x2c);
        rowsOut.byte(0x2c);
        rowsOut.byte(0x0a);
      },
      malformed(line, _kind, reason, raw) {
        rows++;
        malformed++;
        rowsOut.utf8(`${line}${empties},${quotedField(reason)},${quotedField(raw)}\n`);
      },
      async drain() {
        if (!rowsOut.length) return;
        const chunk = rowsOut.take();
        hash.update(chunk);
        written += chunk.length;
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), done]);
      },
    });
    if (result.header === 0) throw ApplicationFailure.nonRetryable(`${name} is empty: not even a header`, 'EmptyFile');
    out.end();
    await done;
    const { bytes, ...account } = result;
    return {
      account,
      bytes,
      rows,
      malformed,
      header,
      fields: columns,
      positions: contract.columns.map((_, i) => i),
      written: { bytes: written, sha256: hash.digest('hex') },
      path,
    };
  } catch (err) {
    out.destroy();
    throw err;
  }
}

/** The longest numbered row: a record of at most `maxRecordBytes` with every byte a doubled quote, plus its line. */
export const numberedLineBytes = (maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) => 2 * maxRecordBytes + 4096;

/**
 * A numbered CSV (bound as `$1`) as DuckDB reads it: `source_line`, the contract's columns by
 * name (text), `malformed_reason` and `malformed_raw`. The layout comes from the file's
 * writer; it is checked here, since it reaches the SQL.
 */
export function numberedCsvSql(
  layout: NumberedLayout,
  columns: readonly string[],
  { maxRecordBytes = DEFAULT_MAX_RECORD_BYTES, bufferSize }: { maxRecordBytes?: number; bufferSize?: number } = {},
): string {
  const { fields, positions } = layout;
  if (!Number.isInteger(fields) || fields < 1 || fields > 100_000) throw new Error(`a numbered CSV has 1 to 100000 fields, not ${fields}`);
  if (!Array.isArray(positions) || positions.length !== columns.length || !positions.every((p) => Number.isInteger(p) && p >= 0 && p < fields)) {
    throw new Error(`a numbered CSV's positions are ${columns.length} fields of ${fields}, not ${JSON.stringify(positions)?.slice(0, 200)}`);
  }
  const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const projection = positions.map((p, c) => `f${p} AS ${ident(columns[c])}`).join(', ');
  const struct = ["'source_line': 'BIGINT'", ...Array.from({ length: fields }, (_, i) => `'f${i}': 'VARCHAR'`), "'malformed_reason': 'VARCHAR'", "'malformed_raw': 'VARCHAR'"].join(', ');
  const maxLine = numberedLineBytes(maxRecordBytes);
  const buffer = bufferSize ? `, buffer_size = ${Math.floor(bufferSize)}` : '';
  return `SELECT source_line, ${projection}, malformed_reason, malformed_raw
    FROM read_csv($1, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', new_line = '\\n',
                  columns = {${struct}}, strict_mode = true, max_line_size = ${maxLine}${buffer})`;
}
