/**
 * The CSV reader of both pipelines (orders_daily_etl's extract, orders-etl's extract_data and
 * the database source's COPY output). It streams bytes, splits records and fields in place and
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
import { isUtf8 } from 'node:buffer';
import { CancelledFailure } from '@temporalio/common';
import type { LineAccount } from '../src/contracts';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/** What makes a record malformed; the rejects table groups by it. */
export type MalformedKind = 'unbalanced quote' | 'NUL byte' | 'lone CR' | 'invalid UTF-8' | 'field count' | 'too long';

/** The reader's account of the input's lines (the type the workflows carry as `LineAccount`). */
export type CsvLineAccount = LineAccount;

export interface CsvReadResult extends CsvLineAccount {
  bytes: number;
}

/** One record: its fields as spans of `buf` (or of the reader's scratch buffer, for unescaped quoted fields). */
export class CsvRecord {
  /** First physical line of the record, 1-based. */
  line = 0;
  /** Physical lines the record spans. */
  lines = 0;
  count = 0;
  /** Whether any quote is in the record: without one, its raw bytes are its fields joined by commas. */
  quoted = false;
  buf: Buffer = Buffer.alloc(0);
  /** The record's bytes in `buf`, line end excluded. */
  rawStart = 0;
  rawEnd = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** 1 when the field's bytes are in `scratch` (a quoted field with `""` or text after its closing quote). */
  inScratch = new Uint8Array(64);
  scratch: Buffer = Buffer.alloc(4096);

  /** The buffer a field's bytes are in. */
  source(i: number): Buffer {
    return this.inScratch[i] ? this.scratch : this.buf;
  }

  text(i: number): string {
    return this.source(i).toString('utf8', this.starts[i], this.ends[i]);
  }

  texts(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.text(i));
  }

  /** The record as written (all its lines), for a reject's raw text. */
  raw(): string {
    return this.buf.toString('utf8', this.rawStart, this.rawEnd);
  }
}

export interface CsvReaderOptions {
  /** A record longer than this is malformed (bounds the reader's memory). 1 MiB by default. */
  maxRecordBytes?: number;
  signal?: AbortSignal;
  /**
   * The first record. `problem` is set when it is malformed (the caller refuses the file). Throw
   * to refuse the header: nothing more is read. Its field count is what every record must have.
   */
  header(record: CsvRecord, problem: string | undefined): void;
  record(record: CsvRecord): void;
  /** A malformed record: its first line, why, and that line's text. */
  malformed(line: number, kind: MalformedKind, reason: string, raw: string): void;
  /** After each chunk's records: where the caller writes its output and waits for its streams. */
  drain?(): Promise<void>;
}

export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
/** A malformed record's raw text keeps at most this many characters. */
export const MAX_RAW_CHARS = 1000;

const NEED_MORE = -1;

function cancelled(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('activity cancelled');
}

const mib = (bytes: number) => (bytes >= 1 << 20 ? `${Math.round((bytes / (1 << 20)) * 10) / 10} MiB` : `${bytes} bytes`);

/** Reads CSV from a stream of chunks; see the module comment for the rules. */
export async function readCsv(
  source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  options: CsvReaderOptions,
): Promise<CsvReadResult> {
  const reader = new Reader(options);
  for await (const chunk of source) {
    if (options.signal?.aborted) throw cancelled(options.signal);
    reader.push(
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
    if (options.drain) await options.drain();
  }
  reader.finish();
  if (options.drain) await options.drain();
  return reader.result();
}

class Reader {
  private data: Buffer = Buffer.alloc(1 << 20);
  /** Bytes of `data` in use; `start` is where the next record begins (always a line start). */
  private length = 0;
  private start = 0;
  /** Records ending before this offset of `data` are known to be valid UTF-8. */
  private utf8Until = 0;
  private line = 1;
  private bytes = 0;
  private bomChecked = false;
  private eof = false;
  /** Discarding the rest of an over-long single line. */
  private skipping = false;
  private headerSeen = false;
  private fields = 0;
  private readonly rec = new CsvRecord();
  private readonly max: number;
  private readonly account: CsvLineAccount = { lines: 0, header: 0, blank: 0, records: 0, recordLines: 0, malformed: 0 };

  constructor(private readonly options: CsvReaderOptions) {
    this.max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.start > 0) {
      this.data.copyWithin(0, this.start, this.length);
      this.length -= this.start;
      this.utf8Until = Math.max(0, this.utf8Until - this.start);
      this.start = 0;
    }
    if (this.length + chunk.length > this.data.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.data.length * 2, this.length + chunk.length));
      this.data.copy(bigger, 0, 0, this.length);
      this.data = bigger;
    }
    chunk.copy(this.data, this.length);
    this.length += chunk.length;
    if (!this.bomChecked) {
      if (this.length < 3 && !this.eof) return;
      this.bomChecked = true;
      if (this.data[0] === 0xef && this.data[1] === 0xbb && this.data[2] === 0xbf) this.start = 3;
    }
    this.checkUtf8();
    this.parse();
  }

  finish(): void {
    this.eof = true;
    if (!this.bomChecked) {
      this.bomChecked = true;
      if (this.length >= 3 && this.data[0] === 0xef && this.data[1] === 0xbb && this.data[2] === 0xbf) this.start = 3;
    }
    this.checkUtf8();
    this.parse();
  }

  result(): CsvReadResult {
    return { ...this.account, bytes: this.bytes };
  }

  /** One isUtf8 over every complete line in the buffer; records are checked one by one only where it fails. */
  private checkUtf8(): void {
    if (this.length === 0) return; // (lastIndexOf from -1 would search the stale bytes past `length`)
    const end = this.eof ? this.length : this.data.lastIndexOf(LF, this.length - 1) + 1;
    if (end <= this.start || end <= this.utf8Until) return;
    const from = Math.max(this.start, this.utf8Until);
    this.utf8Until = isUtf8(this.data.subarray(from, end)) ? end : from;
  }

  private parse(): void {
    const d = this.data;
    while (this.start < this.length) {
      if (this.skipping) {
        const lf = d.indexOf(LF, this.start);
        if (lf === -1 || lf >= this.length) {
          this.start = this.length;
          return;
        }
        this.start = lf + 1;
        this.skipping = false;
        continue;
      }
      const next = this.parseRecord(this.start);
      if (next !== NEED_MORE) {
        this.start = next;
        continue;
      }
      // The record goes on past the buffer.
      if (this.length - this.start > this.max) this.rejectOverLong();
      else return;
    }
  }

  /**
   * The record at `start` is longer than the limit. A single line is rejected and skipped; a
   * quoted field running over several lines costs its first line, and the rest is read again.
   */
  private rejectOverLong(): void {
    const s = this.start;
    const found = this.data.indexOf(LF, s);
    const lf = found === -1 || found >= this.length ? -1 : found;
    if (lf === -1 || lf - s > this.max) {
      this.reject(s, this.lineEnd(s, lf === -1 ? Math.min(this.length, s + this.max) : lf), 'too long', `record is longer than ${mib(this.max)}`);
      this.countLines(1);
      this.start = lf === -1 ? this.length : lf + 1;
      this.skipping = lf === -1 && !this.eof;
      return;
    }
    this.reject(s, this.lineEnd(s, lf), 'unbalanced quote', `unbalanced quote: a quoted field opened on line ${this.line} runs past ${mib(this.max)}`);
    this.countLines(1);
    this.start = lf + 1;
  }

  /** End of the line content from `from` to `lf` (a CR before the LF excluded). */
  private lineEnd(from: number, lf: number): number {
    return lf > from && this.data[lf - 1] === CR ? lf - 1 : lf;
  }

  private countLines(n: number): void {
    this.account.lines += n;
    this.line += n;
  }

  private reject(from: number, to: number, kind: MalformedKind, reason: string): void {
    this.account.malformed++;
    const raw = this.data
      .toString('utf8', from, Math.min(to, from + MAX_RAW_CHARS * 4))
      .replace(/\0/g, '\\0')
      .slice(0, MAX_RAW_CHARS);
    this.options.malformed(this.line, kind, reason, raw);
  }

  /**
   * Reads the record that starts at `s`; returns where the next one starts, or NEED_MORE when
   * the buffer ends first (and more input may come).
   */
  private parseRecord(s: number): number {
    const d = this.data;
    const n = this.length;
    const eof = this.eof;
    const rec = this.rec;
    let i = s;
    let nf = 0;
    let lfs = 0; // line breaks inside quoted fields
    let firstLf = -1;
    let hasNul = false;
    let loneCr = false;
    let scratchLength = 0;
    let openQuote = false;
    let quoted = false; // a quote anywhere in the record

    for (;;) {
      if (nf === rec.starts.length) this.growFields();
      if (i < n && d[i] === QUOTE) {
        quoted = true;
        // A quoted field: "" is a quote; a quote followed by anything else closes it.
        let j = i + 1;
        let escaped = false;
        let closed = -1;
        while (j < n) {
          const b = d[j];
          if (b === QUOTE) {
            if (j + 1 < n && d[j + 1] === QUOTE) {
              escaped = true;
              j += 2;
              continue;
            }
            if (j + 1 >= n && !eof) return NEED_MORE;
            closed = j;
            break;
          }
          if (b === LF) {
            lfs++;
            if (firstLf < 0) firstLf = j;
          } else if (b === CR) {
            if (j + 1 >= n && !eof) return NEED_MORE;
            if (j + 1 < n && d[j + 1] !== LF) loneCr = true;
          } else if (b === NUL) hasNul = true;
          j++;
        }
        if (closed < 0) {
          if (!eof) return NEED_MORE;
          // Open at the end of the input: the field as it stands (what Python's csv returns).
          openQuote = true;
          const start = scratchLength;
          scratchLength = this.unescape(i + 1, n, n, n, scratchLength);
          rec.starts[nf] = start;
          rec.ends[nf] = scratchLength;
          rec.inScratch[nf] = 1;
          nf++;
          i = n;
          break;
        }
        // After the closing quote: a comma, a line end, the end of input, or text kept as part of the field.
        let k = closed + 1;
        const tailStart = k;
        while (k < n) {
          const b = d[k];
          if (b === COMMA || b === LF) break;
          if (b === CR) {
            if (k + 1 >= n) {
              if (!eof) return NEED_MORE;
            } else if (d[k + 1] !== LF) loneCr = true;
          } else if (b === NUL) hasNul = true;
          k++;
        }
        if (k >= n && !eof) return NEED_MORE;
        let tailEnd = k;
        if (tailEnd > tailStart && d[tailEnd - 1] === CR && (tailEnd === n || d[tailEnd] === LF)) tailEnd--;
        if (!escaped && tailEnd === tailStart) {
          rec.starts[nf] = i + 1;
          rec.ends[nf] = closed;
          rec.inScratch[nf] = 0;
        } else {
          const start = scratchLength;
          scratchLength = this.unescape(i + 1, closed, tailStart, tailEnd, scratchLength);
          rec.starts[nf] = start;
          rec.ends[nf] = scratchLength;
          rec.inScratch[nf] = 1;
        }
        nf++;
        i = k;
      } else {
        // An unquoted field: everything up to a comma or the line end, quotes included.
        let j = i;
        while (j < n) {
          const b = d[j];
          if (b > COMMA) {
            j++;
            continue;
          }
          if (b === COMMA || b === LF) break;
          if (b === CR) {
            if (j + 1 >= n) {
              if (!eof) return NEED_MORE;
            } else if (d[j + 1] !== LF) loneCr = true;
          } else if (b === NUL) hasNul = true;
          else if (b === QUOTE) quoted = true;
          j++;
        }
        if (j >= n && !eof) return NEED_MORE;
        let end = j;
        if (end > i && d[end - 1] === CR && (end === n || d[end] === LF)) end--;
        rec.starts[nf] = i;
        rec.ends[nf] = end;
        rec.inScratch[nf] = 0;
        nf++;
        i = j;
      }
      if (i < n && d[i] === COMMA) {
        i++;
        continue;
      }
      break;
    }

    // i is at the record's LF, or at the end of the input.
    const recordEnd = i;
    const next = i < n ? i + 1 : n;
    const contentEnd = this.lineEnd(s, recordEnd);
    // A quote open to the end of a file that ends with LF spans no line after that LF.
    const lines = openQuote && n > s && d[n - 1] === LF ? lfs : lfs + 1;
    if (recordEnd - s > this.max && this.headerSeen) {
      this.rejectOverLong();
      return this.start;
    }

    if (contentEnd === s && lfs === 0 && nf === 1 && !openQuote) {
      // A blank line (or a lone CR before the LF).
      if (recordEnd === n && s === n) return next;
      this.account.blank++;
      this.countLines(1);
      return next;
    }

    const problem = openQuote
      ? 'unbalanced quote'
      : hasNul
        ? 'NUL byte'
        : loneCr
          ? 'lone CR'
          : recordEnd > this.utf8Until && !isUtf8(d.subarray(s, recordEnd))
            ? 'invalid UTF-8'
            : this.headerSeen && nf !== this.fields
              ? 'field count'
              : undefined;

    if (!this.headerSeen) {
      this.headerSeen = true;
      this.fill(s, contentEnd, nf, lines, quoted);
      const described = problem && this.describe(problem, nf, lines, s);
      this.account.header = lines;
      this.countLines(lines);
      this.fields = nf;
      this.options.header(rec, described);
      return next;
    }
    if (problem === undefined) {
      this.fill(s, contentEnd, nf, lines, quoted);
      this.account.records++;
      this.account.recordLines += lines;
      this.countLines(lines);
      this.options.record(rec);
      return next;
    }
    // Malformed: reject the first line only and read the lines after it again.
    const firstLineEnd = lines > 1 || openQuote ? (firstLf >= 0 ? firstLf : this.firstLf(s)) : recordEnd;
    this.reject(s, this.lineEnd(s, firstLineEnd), problem, this.describe(problem, nf, lines, s));
    this.countLines(1);
    if (firstLineEnd >= n) return n;
    return firstLineEnd + 1;
  }

  /** The first LF at or after `s` in the buffer, or the buffer's end. */
  private firstLf(s: number): number {
    const lf = this.data.indexOf(LF, s);
    return lf === -1 || lf >= this.length ? this.length : lf;
  }

  private describe(kind: MalformedKind, found: number, lines: number, s: number): string {
    const span =
      lines > 1 ? `, reading lines ${this.line}-${this.line + lines - 1} as one record (an unbalanced quote): only line ${this.line} is rejected` : '';
    switch (kind) {
      case 'unbalanced quote': {
        const lf = this.firstLf(s);
        return lf < this.length || this.eof
          ? `unbalanced quote: a quoted field opened on line ${this.line} is not closed before the end of the file`
          : `unbalanced quote on line ${this.line}`;
      }
      case 'NUL byte':
        return `contains a NUL byte${span}`;
      case 'lone CR':
        return `contains a carriage return (CR) that ends no line${span}`;
      case 'invalid UTF-8':
        return `not valid UTF-8${span}`;
      case 'field count':
        return `expected ${this.fields} fields, found ${found}${span}`;
      case 'too long':
        return `record is longer than ${mib(this.max)}`;
    }
  }

  private fill(s: number, contentEnd: number, nf: number, lines: number, quoted: boolean): void {
    const rec = this.rec;
    rec.quoted = quoted;
    rec.buf = this.data;
    rec.rawStart = s;
    rec.rawEnd = contentEnd;
    rec.count = nf;
    rec.line = this.line;
    rec.lines = lines;
  }

  /** Copies a quoted field's value ("" as ", then the text after its closing quote) into the scratch buffer. */
  private unescape(from: number, closed: number, tailStart: number, tailEnd: number, at: number): number {
    const rec = this.rec;
    const need = at + (closed - from) + (tailEnd - tailStart);
    if (need > rec.scratch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(rec.scratch.length * 2, need));
      rec.scratch.copy(bigger, 0, 0, at);
      rec.scratch = bigger;
    }
    const d = this.data;
    const out = rec.scratch;
    for (let j = from; j < closed; j++) {
      out[at++] = d[j];
      if (d[j] === QUOTE) j++; // the second quote of ""
    }
    for (let j = tailStart; j < tailEnd; j++) out[at++] = d[j];
    return at;
  }

  private growFields(): void {
    const rec = this.rec;
    const size = rec.starts.length * 2;
    const starts = new Int32Array(size);
    starts.set(rec.starts);
    const ends = new Int32Array(size);
    ends.set(rec.ends);
    const inScratch = new Uint8Array(size);
    inScratch.set(rec.inScratch);
    rec.starts = starts;
    rec.ends = ends;
    rec.inScratch = inScratch;
  }
}
