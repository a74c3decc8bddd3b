/**
 * Files: the raw CSV drop zone. Reading the header, and a streaming transform that numbers
 * each CSV record for Postgres COPY, so that every staged row keeps its source line.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { ApplicationFailure } from '@temporalio/common';
import { parseDs } from '../src/logical-date';
import { cancellationSignal } from './heartbeat';

export const ORDERS_HEADER = ['order_id', 'customer_id', 'order_date', 'amount', 'status'] as const;

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** `<data dir>/raw/orders_<ds>.csv`, after checking `ds` so the path cannot leave the data dir. */
export function ordersRawFile(dataDir: string, ds: string): string {
  const file = path.resolve(dataDir, 'raw', `orders_${parseDs(ds)}.csv`);
  const root = path.resolve(dataDir) + path.sep;
  if (!file.startsWith(root)) {
    throw ApplicationFailure.nonRetryable(`path ${file} is outside the data directory ${root}`, 'InvalidPath');
  }
  return file;
}

/**
 * Resolves paths relative to the data directory; one that leaves it (`..`, an absolute path
 * elsewhere) is a non-retryable InvalidPath, before any file is touched.
 */
export function dataDirResolver(dataDir: string): (relative: string) => string {
  const root = path.resolve(dataDir) + path.sep;
  return (relative) => {
    const file = path.resolve(root, relative);
    if (!file.startsWith(root)) throw ApplicationFailure.nonRetryable(`path ${relative} leaves the data directory ${root}`, 'InvalidPath');
    return file;
  };
}

/**
 * Reads the first line of a CSV file (a UTF-8 BOM and a trailing CR removed) without reading
 * the rest. Returns '' for an empty file.
 */
export async function readFirstLine(file: string, limit = 64 * 1024): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(limit);
    const { bytesRead } = await handle.read(buf, 0, limit, 0);
    let chunk = buf.subarray(0, bytesRead);
    if (chunk.subarray(0, 3).equals(BOM)) chunk = chunk.subarray(3);
    const end = chunk.indexOf(LF);
    let line = (end === -1 ? chunk : chunk.subarray(0, end)).toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return line;
  } finally {
    await handle.close();
  }
}

/** Throws a non-retryable failure naming the file, the expected and the actual header. */
export function checkHeader(file: string, actual: string, expected: readonly string[] = ORDERS_HEADER): void {
  const fields = actual.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
  if (fields.length === expected.length && fields.every((f, i) => f === expected[i])) return;
  const shown = actual === '' ? '(empty file)' : JSON.stringify(actual.slice(0, 200));
  throw ApplicationFailure.nonRetryable(
    `${file}: line 1: wrong header: expected "${expected.join(',')}", found ${shown}`,
    'WrongHeader',
  );
}

export interface NumberedRecordsStats {
  records: number;
  malformed: number;
  bytes: number;
}

/**
 * Turns a CSV file (header first) into COPY-ready CSV rows:
 *   `<line>,<the record's fields>,,`                  for a record of `fields` fields
 *   `<line>,,,,,,<reason>,<raw record>`                for a record that can't be staged as is
 * `line` is the physical line where the record starts, so a quoted newline does not shift the
 * numbers. The header and blank lines are dropped, CRLF becomes LF, and a BOM is skipped.
 * Records are scanned byte by byte and copied in bulk: the data is never parsed into objects.
 */
export class NumberedCsvRecords extends Transform {
  readonly stats: NumberedRecordsStats = { records: 0, malformed: 0, bytes: 0 };
  private carry: Buffer = Buffer.alloc(0);
  private line = 1;
  private headerSeen = false;
  private first = true;

  constructor(private readonly fields: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.stats.bytes += chunk.length;
    let data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    if (this.first) {
      if (data.length < 3 && BOM.subarray(0, data.length).equals(data)) {
        this.carry = data;
        return done();
      }
      this.first = false;
      if (data.subarray(0, 3).equals(BOM)) data = data.subarray(3);
    }
    const consumed = this.scan(data, false);
    this.carry = Buffer.from(data.subarray(consumed));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.carry.length) this.scan(this.carry, true);
    this.carry = Buffer.alloc(0);
    done();
  }

  /** Emits every complete record in `data`; returns how many bytes were consumed. */
  private scan(data: Buffer, final: boolean): number {
    // One output buffer per chunk: a record grows by at most its line number, a comma and ",,\n".
    this.out = Buffer.allocUnsafe(data.length + 64 * 1024);
    this.outLength = 0;
    // Checked once for the whole chunk; per record only when the chunk as a whole is not UTF-8.
    this.chunkIsUtf8 = isUtf8(data);
    let start = 0;
    let inQuotes = false;
    let commas = 0;
    let newlinesInRecord = 0;
    let hasNul = false;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      const b = data[i];
      if (b > COMMA) continue; // the common case: a byte that is none of the four below
      if (b === QUOTE) inQuotes = !inQuotes;
      else if (b === COMMA) {
        if (!inQuotes) commas++;
      } else if (b === LF) {
        if (inQuotes) {
          newlinesInRecord++;
          continue;
        }
        this.emitRecord(data, start, i, commas, hasNul);
        this.line += newlinesInRecord + 1;
        start = i + 1;
        commas = 0;
        newlinesInRecord = 0;
        hasNul = false;
      } else if (b === NUL) hasNul = true;
    }
    if (final && start < n) {
      this.emitRecord(data, start, n, commas, hasNul, inQuotes);
      start = n;
    }
    if (this.outLength) this.push(this.out.subarray(0, this.outLength));
    return start;
  }

  private out: Buffer = Buffer.alloc(0);
  private outLength = 0;
  private chunkIsUtf8 = true;

  private append(bytes: Buffer | string): void {
    const length = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
    if (this.outLength + length > this.out.length) {
      // A chunk of many malformed records (their reasons and quoting) can outgrow the estimate.
      const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.outLength + length));
      this.out.copy(bigger, 0, 0, this.outLength);
      this.out = bigger;
    }
    if (typeof bytes === 'string') this.outLength += this.out.write(bytes, this.outLength, 'utf8');
    else this.outLength += bytes.copy(this.out, this.outLength);
  }

  private emitRecord(data: Buffer, start: number, end: number, commas: number, hasNul: boolean, unterminatedQuote = false): void {
    if (end > start && data[end - 1] === CR) end--;
    if (!this.headerSeen) {
      this.headerSeen = true;
      return;
    }
    if (end === start) return; // a blank line is not a record
    const record = data.subarray(start, end);
    this.stats.records++;
    const reason = unterminatedQuote
      ? 'unterminated quoted field'
      : hasNul
        ? 'contains a NUL byte'
        : commas + 1 !== this.fields
          ? `expected ${this.fields} fields, found ${commas + 1}`
          : !this.chunkIsUtf8 && !isUtf8(record)
            ? 'not valid UTF-8'
            : undefined;
    if (reason === undefined) {
      this.append(`${this.line},`);
      this.append(record);
      this.append(RECORD_END);
      return;
    }
    this.stats.malformed++;
    const raw = record.toString('utf8').replace(/\0/g, '\\0');
    this.append(`${this.line}${','.repeat(this.fields + 1)}${csvQuote(reason)},${csvQuote(raw)}\n`);
  }
}

/** What follows a good record: the two empty malformed_reason and malformed_raw fields. */
const RECORD_END = Buffer.from(',,\n');

function csvQuote(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/** A file's sha256, streamed; stops when the activity is cancelled. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash, { signal: cancellationSignal() });
  return hash.digest('hex');
}
