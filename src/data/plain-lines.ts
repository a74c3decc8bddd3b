/**
 * The CSV reader's fast path, for a plain file: one without a quote, a CR or a NUL byte, valid
 * UTF-8, no line longer than the record limit. Such a file's records are its lines and its fields
 * the text between commas, exactly as the reader (src/data/csv.ts) would read them, so the file
 * is numbered line by line without splitting a field: each record is copied as it is, after the
 * line it is on, and each line of another number of fields than the header becomes a malformed
 * row with the reader's reason. The output is the numbered CSV of src/data/csv-file.ts, with the
 * file's own columns in the file's order.
 *
 * A file that turns out not to be plain (the first quote, CR, NUL, invalid UTF-8 or over-long
 * line says so) is left to the reader: the caller reads it again from the start.
 */
import { open } from 'node:fs/promises';
import { cancelledError } from './heartbeat';
import type { CsvLineAccount } from './csv-record';
import { NotPlain, PlainLinesWriter } from './plain-lines-writer';

/** What the fast path wrote, or why the file is not plain. */
export type PlainLinesResult =
  | {
      plain: true;
      /** The header's fields as written. */
      header: string[];
      account: CsvLineAccount;
      /** Bytes read. */
      bytes: number;
      /** Rows written: records + malformed lines. */
      rows: number;
      malformed: number;
      /** The output's size and sha256, computed while writing it. */
      written: { bytes: number; sha256: string };
      /** The rows `unsure.sure` did not vouch for, and the malformed ones, written again to `unsure.output`. */
      unsure?: { rows: number; written: { bytes: number; sha256: string } };
    }
  | { plain: false; reason: string };

export interface PlainLinesOptions {
  maxRecordBytes?: number;
  signal?: AbortSignal;
  /**
   * The header's fields as written, and its line, once it is read: throw to refuse it before a
   * row is written. Returns the fields (by index) that `unsure.sure` looks at, in its order.
   */
  header(fields: string[], line: number): number[] | void;
  /**
   * A second output of the same rows for the few that need a closer look: each record `sure`
   * does not vouch for (it is given the record's bytes and the spans of the header's chosen
   * fields), and each malformed line.
   */
  unsure?: { output: string; sure(buf: Buffer, starts: Int32Array, ends: Int32Array): boolean };
}

/**
 * Numbers the plain CSV `source` into `output` as rows of `line,<the record's fields>,,` (a
 * malformed line as `line,<as many empty fields>,"reason","raw"`), no header. Returns
 * `{ plain: false }` as soon as the input is not plain; the output is then incomplete.
 */
export async function writePlainLines(source: AsyncIterable<Buffer>, output: string, options: PlainLinesOptions): Promise<PlainLinesResult> {
  const handle = await open(output, 'w');
  const unsure = options.unsure ? await open(options.unsure.output, 'w').catch(async (err: unknown) => {
    await handle.close();
    throw err;
  }) : undefined;
  try {
    const writer = new PlainLinesWriter(handle, options, unsure);
    for await (const chunk of source) {
      if (options.signal?.aborted) throw cancelledError(options.signal);
      await writer.push(chunk);
    }
    // A source that stops on cancellation ends early: that is no whole file.
    if (options.signal?.aborted) throw cancelledError(options.signal);
    return await writer.finish();
  } catch (err) {
    if (err instanceof NotPlain) return { plain: false, reason: err.message };
    throw err;
  } finally {
    await handle.close();
    await unsure?.close();
  }
}
