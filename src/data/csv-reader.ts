/**
 * The CSV reader's state machine: records and malformed lines out of its input window
 * (src/data/csv-input.ts); see src/data/csv.ts for its rules.
 */
import { isUtf8 } from 'node:buffer';
import { CsvInput } from './csv-input';
import * as csv from './csv-record';
import type { MalformedKind } from './csv-record';

// The bytes the reader looks at, as constants of this module: imported, they would be read
// through the module object (a getter call per byte under a CommonJS transform such as tsx's).
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

const NEED_MORE = -1;

export class Reader extends CsvInput {
  private line = 1;
  /** Discarding the rest of an over-long single line. */
  private skipping = false;
  private headerSeen = false;
  private fields = 0;
  private readonly rec = new csv.CsvRecord();
  private readonly max: number;
  private readonly account: csv.CsvLineAccount = { lines: 0, header: 0, blank: 0, records: 0, recordLines: 0, malformed: 0 };

  constructor(private readonly options: csv.CsvReaderOptions) {
    super();
    this.max = options.maxRecordBytes ?? csv.DEFAULT_MAX_RECORD_BYTES;
    if (options.resume) {
      // Part of a file read from a record start on: no BOM there, the header read before it.
      this.bomChecked = true;
      this.headerSeen = true;
      this.fields = options.resume.fields;
      this.line = options.resume.line;
    }
  }

  /** The line the next record starts on. */
  get nextLine(): number {
    return this.line;
  }

  /** Whether every byte pushed so far belongs to a decided record: the next one starts at the next byte. */
  atRecordStart(): boolean {
    return this.start === this.length && !this.skipping && this.headerSeen;
  }

  result(): csv.CsvReadResult {
    return { ...this.account, bytes: this.bytes };
  }

  protected parse(): void {
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
      this.reject(s, this.lineEnd(s, lf === -1 ? Math.min(this.length, s + this.max) : lf), 'too long', `record is longer than ${csv.mib(this.max)}`);
      this.countLines(1);
      this.start = lf === -1 ? this.length : lf + 1;
      this.skipping = lf === -1 && !this.eof;
      return;
    }
    this.reject(s, this.lineEnd(s, lf), 'unbalanced quote', `unbalanced quote: a quoted field opened on line ${this.line} runs past ${csv.mib(this.max)}`);
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
      .toString('utf8', from, Math.min(to, from + csv.MAX_RAW_CHARS * 4))
      .replace(/\0/g, '\\0')
      .slice(0, csv.MAX_RAW_CHARS);
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
      if (nf === rec.starts.length) rec.growFields();
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
          scratchLength = rec.unescape(d, i + 1, n, n, n, scratchLength);
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
          scratchLength = rec.unescape(d, i + 1, closed, tailStart, tailEnd, scratchLength);
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
      rec.fill(d, s, contentEnd, nf, this.line, lines, quoted);
      const described = problem && this.describe(problem, nf, lines, s);
      this.account.header = lines;
      this.countLines(lines);
      this.fields = nf;
      this.options.header(rec, described);
      return next;
    }
    if (problem === undefined) {
      rec.fill(d, s, contentEnd, nf, this.line, lines, quoted);
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

  private describe(kind: MalformedKind, found: number, lines: number, s: number): string {
    const atFileEnd = this.firstLf(s) < this.length || this.eof;
    return csv.describeMalformed(kind, { found, lines, line: this.line, fields: this.fields, max: this.max, atFileEnd });
  }

  /** The first LF at or after `s` in the buffer, or the buffer's end. */
  private firstLf(s: number): number {
    const lf = this.data.indexOf(LF, s);
    return lf === -1 || lf >= this.length ? this.length : lf;
  }
}
