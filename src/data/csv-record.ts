/** The CSV reader's records and options (src/data/csv.ts reads; the callers look at records through these). */
import type { LineAccount } from '../contracts';

export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const LF = 0x0a;
export const CR = 0x0d;
export const NUL = 0x00;

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

  /** Makes this the record of `lines` lines at `s`..`contentEnd` of `data`, with `count` fields, starting on `line`. */
  fill(data: Buffer, s: number, contentEnd: number, count: number, line: number, lines: number, quoted: boolean): void {
    this.quoted = quoted;
    this.buf = data;
    this.rawStart = s;
    this.rawEnd = contentEnd;
    this.count = count;
    this.line = line;
    this.lines = lines;
  }

  /** Copies a quoted field's value ("" as ", then the text after its closing quote) into the scratch buffer. */
  unescape(d: Buffer, from: number, closed: number, tailStart: number, tailEnd: number, at: number): number {
    const need = at + (closed - from) + (tailEnd - tailStart);
    if (need > this.scratch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, need));
      this.scratch.copy(bigger, 0, 0, at);
      this.scratch = bigger;
    }
    const out = this.scratch;
    for (let j = from; j < closed; j++) {
      out[at++] = d[j];
      if (d[j] === QUOTE) j++; // the second quote of ""
    }
    for (let j = tailStart; j < tailEnd; j++) out[at++] = d[j];
    return at;
  }

  /** Room for twice as many fields. */
  growFields(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    starts.set(this.starts);
    const ends = new Int32Array(size);
    ends.set(this.ends);
    const inScratch = new Uint8Array(size);
    inScratch.set(this.inScratch);
    this.starts = starts;
    this.ends = ends;
    this.inScratch = inScratch;
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
  /**
   * Reading part of a file from a record start on (src/data/csv-split.ts): the line it starts
   * on and the header's field count. No BOM is looked for and no header is read; the result
   * accounts for this part's lines only.
   */
  resume?: { line: number; fields: number };
  /**
   * Asked when the input ends: true when it was the first part of a file read in two parts
   * (src/data/csv-split.ts). The reader is then not at the file's end: it must be at a record
   * start, or readCsv throws SplitMismatch.
   */
  endsAtSplit?(): boolean;
}

/** The first part of a split file did not end at a record start (src/data/csv-split.ts). */
export class SplitMismatch extends Error {
  constructor(line: number) {
    super(`the file's first part did not end at a record start (line ${line})`);
  }
}

export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
/** A malformed record's raw text keeps at most this many characters. */
export const MAX_RAW_CHARS = 1000;

/** A text as one quoted CSV field. */
export const quotedField = (text: string) => `"${text.replace(/"/g, '""')}"`;

export const mib = (bytes: number) => (bytes >= 1 << 20 ? `${Math.round((bytes / (1 << 20)) * 10) / 10} MiB` : `${bytes} bytes`);

/** Why a record is malformed, in the words of a reject (its first line, the fields the header has, the reader's limit). */
export function describeMalformed(
  kind: MalformedKind,
  at: { found: number; lines: number; line: number; fields: number; max: number; atFileEnd: boolean },
): string {
  const span = at.lines > 1 ? `, reading lines ${at.line}-${at.line + at.lines - 1} as one record (an unbalanced quote): only line ${at.line} is rejected` : '';
  switch (kind) {
    case 'unbalanced quote':
      return at.atFileEnd
        ? `unbalanced quote: a quoted field opened on line ${at.line} is not closed before the end of the file`
        : `unbalanced quote on line ${at.line}`;
    case 'NUL byte':
      return `contains a NUL byte${span}`;
    case 'lone CR':
      return `contains a carriage return (CR) that ends no line${span}`;
    case 'invalid UTF-8':
      return `not valid UTF-8${span}`;
    case 'field count':
      return `expected ${at.fields} fields, found ${at.found}${span}`;
    case 'too long':
      return `record is longer than ${mib(at.max)}`;
  }
}
