/**
 * The plain-file fast path's writer (src/data/plain-lines.ts says what it reads and writes): the
 * byte loop that numbers each line, counts its commas and judges it at its LF, and the outputs it
 * writes and hashes as it goes.
 */
import { createHash, type Hash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { DEFAULT_MAX_RECORD_BYTES, describeMalformed, MAX_RAW_CHARS, quotedField, type CsvLineAccount } from './csv-record';
import type { PlainLinesOptions, PlainLinesResult } from './plain-lines';

// Local constants: imported ones would be getter calls in the byte loop under a CommonJS transform.
const LF = 0x0a;
const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const NUL = 0x00;
const ZERO = 0x30;
const NINE = 0x39;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EMPTY = Buffer.alloc(0);

/** What ends the fast path: the file is not plain, and the reader reads it. */
export class NotPlain extends Error {}

/** A file written from buffers, each hashed as it is written. */
class HashedFile {
  private written = 0;
  private readonly hash: Hash = createHash('sha256');

  constructor(private readonly handle: FileHandle) {}

  /** Writes `buf[0, end)` whole. */
  async write(buf: Buffer, end: number): Promise<void> {
    this.hash.update(buf.subarray(0, end));
    let at = 0;
    while (at < end) at += (await this.handle.write(buf, at, end - at)).bytesWritten;
    this.written += end;
  }

  result() {
    return { bytes: this.written, sha256: this.hash.digest('hex') };
  }
}

/** An output file written from a growing buffer of whole rows. */
class Output {
  buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  rows = 0;
  private readonly file: HashedFile;

  constructor(handle: FileHandle) {
    this.file = new HashedFile(handle);
  }

  append(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.length + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += src.copy(this.buf, this.length, from, to);
    this.rows++;
  }

  async flush(): Promise<void> {
    if (!this.length) return;
    await this.file.write(this.buf, this.length);
    this.length = 0;
  }

  result() {
    return { rows: this.rows, written: this.file.result() };
  }
}

export class PlainLinesWriter {
  private out = Buffer.allocUnsafe(1 << 21);
  /** Bytes of `out` in use, and where the line being written began (its row, number included). */
  private o = 0;
  private rowStart = 0;
  /** Where the line's own bytes begin in `out` (after `line,`). */
  private textStart = 0;
  private commas = 0;
  private atLineStart = true;
  /** The current line's number, as ASCII digits right-aligned in `digits` from `digitsFrom`. */
  private readonly digits = Buffer.alloc(20, ZERO);
  private digitsFrom = 19;
  private line = 1;
  private readonly max: number;
  private bytes = 0;
  private first = true;
  private lead: Buffer = EMPTY;
  private header: string[] | undefined;
  private fields = 0;
  private emptyFields = '';
  private readonly account: CsvLineAccount = { lines: 0, header: 0, blank: 0, records: 0, recordLines: 0, malformed: 0 };
  private readonly file: HashedFile;
  /** The current record's field spans in `out` (as far as the header's count), and the ones `sure` is given. */
  private starts = new Int32Array(1);
  private ends = new Int32Array(1);
  private picks: number[] = [];
  private pickStarts = new Int32Array(0);
  private pickEnds = new Int32Array(0);
  private readonly unsure: Output | undefined;

  constructor(
    handle: FileHandle,
    private readonly options: PlainLinesOptions,
    unsure: FileHandle | undefined,
  ) {
    this.file = new HashedFile(handle);
    this.max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.digits[19] = ZERO + 1;
    this.unsure = unsure && new Output(unsure);
  }

  async push(input: Buffer): Promise<void> {
    let chunk = input;
    let from = 0;
    this.bytes += chunk.length;
    if (this.first) {
      // A UTF-8 BOM at the start is not text: the first bytes wait until there are three of them.
      chunk = this.lead.length ? Buffer.concat([this.lead, chunk]) : chunk;
      if (chunk.length < 3 && BOM.subarray(0, chunk.length).equals(chunk)) {
        this.lead = Buffer.from(chunk);
        return;
      }
      this.first = false;
      this.lead = EMPTY;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) from = 3;
    }
    this.check(chunk, from);
    this.scan(chunk, from, chunk.length);
    await this.flush(false);
  }

  async finish(): Promise<PlainLinesResult> {
    if (this.first) {
      // Fewer than three bytes, all of them the start of a BOM: text all the same.
      this.first = false;
      this.check(this.lead, 0);
      this.scan(this.lead, 0, this.lead.length);
    }
    // A last line without its LF is a line all the same.
    if (!this.atLineStart) {
      this.endLine();
      this.atLineStart = true;
    }
    await this.flush(true);
    const { account } = this;
    return {
      plain: true,
      header: this.header ?? [],
      account,
      bytes: this.bytes,
      rows: account.records + account.malformed,
      malformed: account.malformed,
      written: this.file.result(),
      ...(this.unsure ? { unsure: this.unsure.result() } : {}),
    };
  }

  private check(chunk: Buffer, from: number): void {
    if (chunk.indexOf(QUOTE, from) !== -1) throw new NotPlain('a quote');
    if (chunk.indexOf(CR, from) !== -1) throw new NotPlain('a carriage return');
    if (chunk.indexOf(NUL, from) !== -1) throw new NotPlain('a NUL byte');
  }

  private room(n: number): void {
    if (this.o + n <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.o + n));
    this.out.copy(bigger, 0, 0, this.o);
    this.out = bigger;
  }

  /** Copies `chunk[from, to)` into the output, numbering each line as it starts and judging it at its LF. */
  private scan(chunk: Buffer, from: number, to: number): void {
    let out = this.out;
    let o = this.o;
    let commas = this.commas;
    let s = from;
    while (s < to) {
      if (this.atLineStart) {
        if (chunk[s] === LF) {
          // A blank line: no row.
          this.account.blank++;
          this.nextLine();
          s++;
          continue;
        }
        this.atLineStart = false;
        if (o + 32 > out.length) {
          this.o = o;
          this.room(32);
          out = this.out;
        }
        this.rowStart = o;
        const digits = this.digits;
        for (let d = this.digitsFrom; d < 20; d++) out[o++] = digits[d];
        out[o++] = COMMA;
        this.textStart = o;
        this.starts[0] = o;
        commas = 0;
      }
      // The line's bytes up to its LF (or the chunk's end), copied and their commas counted in one loop.
      const lf = chunk.indexOf(LF, s);
      const end = lf === -1 ? to : lf;
      if (o + (end - s) + 8 > out.length) {
        this.o = o;
        this.room(end - s + 8);
        out = this.out;
      }
      const starts = this.starts;
      const ends = this.ends;
      const cap = this.fields - 1;
      for (let j = s; j < end; j++) {
        const b = chunk[j];
        if (b === COMMA) {
          if (commas < cap) {
            ends[commas] = o;
            starts[commas + 1] = o + 1;
          }
          commas++;
        }
        out[o++] = b;
      }
      if (o - this.textStart > this.max) throw new NotPlain(`a line longer than ${this.max} bytes`);
      if (lf === -1) break;
      s = lf + 1;
      if (commas + 1 === this.fields && this.header !== undefined) {
        // A record: the common line, ended here.
        this.ends[commas] = o;
        out[o++] = COMMA;
        out[o++] = COMMA;
        out[o++] = LF;
        this.account.records++;
        this.account.recordLines++;
        if (this.unsure && !this.vouched(out)) this.unsure.append(out, this.rowStart, o);
        this.nextLine();
      } else {
        this.o = o;
        this.commas = commas;
        this.endLine();
        out = this.out;
        o = this.o;
      }
      this.atLineStart = true;
    }
    this.o = o;
    this.commas = commas;
  }

  /** The line in `out` from `rowStart` has ended: the header, a record, or a malformed line. */
  private endLine(): void {
    const length = this.o - this.textStart;
    if (length > this.max) throw new NotPlain(`a line longer than ${this.max} bytes`);
    const found = this.commas + 1;
    if (this.header === undefined) {
      const text = this.out.subarray(this.textStart, this.o);
      if (!isUtf8(text)) throw new NotPlain('invalid UTF-8');
      this.header = text.toString('utf8').split(',');
      this.fields = found;
      this.emptyFields = ','.repeat(found);
      this.picks = this.options.header(this.header, this.line) ?? [];
      this.starts = new Int32Array(found);
      this.ends = new Int32Array(found);
      this.pickStarts = new Int32Array(this.picks.length);
      this.pickEnds = new Int32Array(this.picks.length);
      this.account.header = 1;
      this.o = this.rowStart; // the header is not a row
    } else if (found === this.fields) {
      this.room(3);
      this.out[this.o++] = COMMA;
      this.out[this.o++] = COMMA;
      this.out[this.o++] = LF;
      this.account.records++;
      this.account.recordLines++;
    } else {
      const text = this.out.subarray(this.textStart, this.o);
      if (!isUtf8(text)) throw new NotPlain('invalid UTF-8');
      const raw = text.toString('utf8', 0, Math.min(text.length, MAX_RAW_CHARS * 4)).slice(0, MAX_RAW_CHARS);
      const reason = describeMalformed('field count', { found, lines: 1, line: this.line, fields: this.fields, max: this.max, atFileEnd: false });
      const row = Buffer.from(`${this.line}${this.emptyFields},${quotedField(reason)},${quotedField(raw)}\n`);
      this.o = this.rowStart;
      this.room(row.length);
      this.o += row.copy(this.out, this.o);
      this.unsure?.append(this.out, this.rowStart, this.o);
      this.account.malformed++;
    }
    this.nextLine();
  }

  /** Whether `unsure.sure` vouches for the record just ended in `out`. */
  private vouched(out: Buffer): boolean {
    const { picks, pickStarts, pickEnds, starts, ends } = this;
    for (let k = 0; k < picks.length; k++) {
      pickStarts[k] = starts[picks[k]];
      pickEnds[k] = ends[picks[k]];
    }
    return this.options.unsure!.sure(out, pickStarts, pickEnds);
  }

  private nextLine(): void {
    this.account.lines++;
    this.line++;
    const digits = this.digits;
    let d = 19;
    while (digits[d] === NINE) digits[d--] = ZERO;
    digits[d]++;
    if (d < this.digitsFrom) this.digitsFrom = d;
  }

  /** Writes the complete rows (all of them at the end), checked as UTF-8 and hashed. */
  private async flush(all: boolean): Promise<void> {
    const end = all || this.atLineStart ? this.o : this.rowStart;
    await this.unsure?.flush(); // its rows are among the ones checked below
    if (end === 0) return;
    const rows = this.out.subarray(0, end);
    if (!isUtf8(rows)) throw new NotPlain('invalid UTF-8');
    await this.file.write(this.out, end);
    this.out.copyWithin(0, end, this.o);
    this.o -= end;
    this.rowStart -= end;
    this.textStart -= end;
    // The spans of the line still being written move with it.
    for (let k = 0; k < this.starts.length; k++) {
      this.starts[k] -= end;
      this.ends[k] -= end;
    }
  }
}
