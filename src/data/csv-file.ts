/**
 * The CSV reader's records as a numbered CSV file for DuckDB: the contract's columns picked by
 * name from each record, each row led by the line it starts on, and every malformed record as a
 * row with its reason and raw text. DuckDB then reads a file that is well-formed by
 * construction, so no row can be lost or re-numbered between the reader and Parquet.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { ColumnContract } from '../column-contract';
import { HeaderError, matchHeader } from './contract';
import { CopyWriter } from './copy-writer';
import { readCsv, type CsvLineAccount, type CsvRecord } from './csv';
import { cancellationSignal } from './heartbeat';

export interface NumberedFile {
  account: CsvLineAccount;
  bytes: number;
  /** Rows written: records + malformed records. */
  rows: number;
  malformed: number;
  /** The header as read: names in file order. */
  header: string[];
}

/** A text as one quoted CSV field. */
const quoted = (text: string) => `"${text.replace(/"/g, '""')}"`;

/**
 * Writes `source` to `output` as `line,<contract columns>,malformed_reason,malformed_raw` rows
 * (no header). The header is matched by the contract (by name); a wrong one is a non-retryable
 * failure naming `name` and line 1, before a row is written.
 */
export async function writeNumberedCsv(source: AsyncIterable<Buffer>, output: string, contract: ColumnContract, name: string): Promise<NumberedFile> {
  const out = createWriteStream(output);
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
      signal: cancellationSignal(),
      header(record: CsvRecord, problem) {
        if (problem) throw ApplicationFailure.nonRetryable(`${name}: line ${record.line}: the header is malformed: ${problem}`, 'WrongHeader');
        header = record.texts().map((h) => h.trim());
        try {
          positions = matchHeader(contract, header);
          inOrder = header.length === positions.length && positions.every((p, i) => p === i);
        } catch (err) {
          if (err instanceof HeaderError) throw ApplicationFailure.nonRetryable(`${name}: ${err.message}`, err.type);
          throw err;
        }
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
        rowsOut.utf8(`${line}${empties},${quoted(reason)},${quoted(raw)}\n`);
      },
      async drain() {
        if (!rowsOut.length) return;
        const chunk = rowsOut.take();
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), done]);
      },
    });
    if (result.header === 0) throw ApplicationFailure.nonRetryable(`${name} is empty: not even a header`, 'EmptyFile');
    out.end();
    await done;
    const { bytes, ...account } = result;
    return { account, bytes, rows, malformed, header };
  } catch (err) {
    out.destroy();
    throw err;
  }
}
