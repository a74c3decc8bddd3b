/**
 * The CSV reader's input window (src/data/csv-reader.ts): the bytes pushed so far from `start`
 * on, where the next record begins. Consumed bytes are dropped on the next push, the window
 * grows only for a record longer than it, a UTF-8 BOM at the very start is stepped over, and
 * every complete line is checked as UTF-8 in one call, so that records need their own check only
 * where that fails. Whoever extends it reads records from the window in `parse`.
 */
import { isUtf8 } from 'node:buffer';

const LF = 0x0a;

export abstract class CsvInput {
  protected data: Buffer = Buffer.alloc(1 << 20);
  /** Bytes of `data` in use; `start` is where the next record begins (always a line start). */
  protected length = 0;
  protected start = 0;
  /** Records ending before this offset of `data` are known to be valid UTF-8. */
  protected utf8Until = 0;
  /** Every byte pushed. */
  protected bytes = 0;
  protected bomChecked = false;
  /** The input has ended: a record open at the window's end ends there. */
  protected eof = false;

  /** Reads records from `start` on, as far as the window holds whole ones (all of them at `eof`). */
  protected abstract parse(): void;

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
    if (!this.bomChecked && this.length < 3) return;
    this.next();
  }

  finish(): void {
    this.eof = true;
    this.next();
  }

  private next(): void {
    if (!this.bomChecked) {
      this.bomChecked = true;
      if (this.length >= 3 && this.data[0] === 0xef && this.data[1] === 0xbb && this.data[2] === 0xbf) this.start = 3;
    }
    this.checkUtf8();
    this.parse();
  }

  /** One isUtf8 over every complete line in the window; records are checked one by one only where it fails. */
  private checkUtf8(): void {
    if (this.length === 0) return; // (lastIndexOf from -1 would search the stale bytes past `length`)
    const end = this.eof ? this.length : this.data.lastIndexOf(LF, this.length - 1) + 1;
    if (end <= this.start || end <= this.utf8Until) return;
    const from = Math.max(this.start, this.utf8Until);
    this.utf8Until = isUtf8(this.data.subarray(from, end)) ? end : from;
  }
}
