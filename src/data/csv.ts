/**
 * The CSV reader of loadCsv and of the tasks that stage a CSV (stageCsv, writeNumberedCsv),
 * files and COPY output alike. It streams bytes, splits records and fields in place and
 * hands each record to the caller as spans of its buffer: no row becomes a JS object unless the
 * caller asks for a field's text.
 *
 * Its rules, which the fuzz test holds against Python's `csv` module:
 * - Lines end at LF; a CR right before an LF (or at the very end of the file) belongs to the
 *   line end. A UTF-8 BOM at the start is skipped. An empty line is blank, not a record.
 * - RFC 4180 quoting: a field that starts with `"` is quoted, `""` inside is one `"`, and it may
 *   hold commas and line breaks. A quote anywhere else is a literal character (`shipped"`), and
 *   text after a closing quote is kept (`"ab"c` is `abc`), as Python's csv and pandas read them.
 * - A record is malformed when it holds a NUL byte, a CR that ends no line, invalid UTF-8 or
 *   another number of fields than the header, when a quoted field is still open at the end of
 *   the file, or when it is longer than `maxRecordBytes`. A malformed record that spans several
 *   lines is rejected with its first line only, and the lines after it are read again as
 *   records of their own: one stray quote costs at most the one record that holds it.
 * - Every physical line is accounted for: lines = header + blank + record lines + malformed.
 *
 * Memory is bounded by `maxRecordBytes` plus a chunk, and time is linear: a record is re-read
 * only when it turns out malformed, and never further than `maxRecordBytes`.
 */
import { cancelledError } from './heartbeat';
import { SplitMismatch, type CsvReaderOptions, type CsvReadResult } from './csv-record';
import { Reader } from './csv-reader';

export * from './csv-record';

/** Reads CSV from a stream of chunks; see the module comment for the rules. */
export async function readCsv(
  source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  options: CsvReaderOptions,
): Promise<CsvReadResult> {
  const reader = new Reader(options);
  for await (const chunk of source) {
    if (options.signal?.aborted) throw cancelledError(options.signal);
    reader.push(
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
    if (options.drain) await options.drain();
  }
  if (options.endsAtSplit?.()) {
    if (!reader.atRecordStart()) throw new SplitMismatch(reader.nextLine);
  } else reader.finish();
  if (options.drain) await options.drain();
  return reader.result();
}
