/**
 * A growing byte buffer the CSV paths write their output into: COPY text rows for Postgres,
 * CSV rows for DuckDB. Bytes are copied in loops (fields are short), never through strings.
 */
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const ZERO = 0x30;

/** A growing buffer of COPY text rows (tab between fields, LF after each row, \N for NULL). */
export class CopyWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  /** A whole number's decimal digits. */
  uint(n: number): void {
    if (n > 0x7fffffff) return this.ascii(String(n));
    this.room(10);
    const buf = this.buf;
    if (n < 10) {
      buf[this.length++] = ZERO + n;
      return;
    }
    // Digits counted by comparison and written by 32-bit division: a line number per row.
    const digits = n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
    let at = this.length + digits;
    this.length = at;
    let m = n;
    while (m >= 10) {
      const q = (m / 10) | 0;
      buf[--at] = ZERO + (m - q * 10);
      m = q;
    }
    buf[--at] = ZERO + m;
  }

  /** Bytes that need no escaping (digits, a date). */
  plain(src: Buffer, s: number, e: number): void {
    this.room(e - s);
    if (e - s > 64) {
      this.length += src.copy(this.buf, this.length, s, e);
      return;
    }
    // A field is a few bytes: a loop beats Buffer.copy's call.
    const out = this.buf;
    let at = this.length;
    for (let k = s; k < e; k++) out[at++] = src[k];
    this.length = at;
  }

  /** Text with COPY's escapes for backslash, tab, LF and CR. */
  escaped(src: Buffer, s: number, e: number): void {
    if (e - s > 64) {
      // A long field: when nothing in it needs escaping, one native copy of the whole.
      let j = s;
      for (; j < e; j++) {
        const b = src[j];
        if (b === BACKSLASH || b === TAB || b === LF || b === CR) break;
      }
      if (j === e) return this.plain(src, s, e);
    }
    // Otherwise (and for a short field, most are) copied in the pass that escapes.
    this.room(2 * (e - s));
    const out = this.buf;
    let at = this.length;
    for (let k = s; k < e; k++) {
      const b = src[k];
      if (b > CR && b !== BACKSLASH) out[at++] = b;
      else if (b === BACKSLASH) {
        out[at++] = BACKSLASH;
        out[at++] = BACKSLASH;
      } else if (b === TAB) {
        out[at++] = BACKSLASH;
        out[at++] = 0x74;
      } else if (b === LF) {
        out[at++] = BACKSLASH;
        out[at++] = 0x6e;
      } else if (b === CR) {
        out[at++] = BACKSLASH;
        out[at++] = 0x72;
      } else out[at++] = b;
    }
    this.length = at;
  }

  /** A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a quote, comma or line break. */
  csvField(src: Buffer, s: number, e: number): void {
    let j = s;
    for (; j < e; j++) {
      const b = src[j];
      if (b === 0x22 || b === 0x2c || b === LF || b === CR) break;
    }
    if (j === e) return this.plain(src, s, e);
    this.room(2 * (e - s) + 2);
    this.buf[this.length++] = 0x22;
    for (let k = s; k < e; k++) {
      if (src[k] === 0x22) this.buf[this.length++] = 0x22;
      this.buf[this.length++] = src[k];
    }
    this.buf[this.length++] = 0x22;
  }

  /** A string's UTF-8 bytes as they are. */
  utf8(value: string): void {
    this.room(Buffer.byteLength(value));
    this.length += this.buf.write(value, this.length, 'utf8');
  }

  /** A string, COPY-escaped. */
  text(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.escaped(bytes, 0, bytes.length);
  }

  ascii(value: string): void {
    this.room(value.length);
    this.length += this.buf.write(value, this.length, 'latin1');
  }

  null(): void {
    this.ascii('\\N');
  }

  /** The buffer written into: its first `length` bytes are the rows so far (until the next write). */
  get bytes(): Buffer {
    return this.buf;
  }

  /** The rows written so far, and an empty writer: a few bytes are copied, a full buffer is handed over. */
  take(): Buffer {
    if (this.length < 1 << 16) {
      const small = Buffer.allocUnsafe(this.length);
      this.buf.copy(small, 0, 0, this.length);
      this.length = 0;
      return small;
    }
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafeSlow(this.buf.length);
    this.length = 0;
    return out;
  }
}
