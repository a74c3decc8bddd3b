/**
 * The keys a CSV load may have seen twice, found while it reads: a blocked Bloom filter over the
 * bytes of each good record's key (one 32-bit word a key, three bits in it; a word for about two
 * records of the input, up to 8 MiB). A key whose three bits are all set already is a candidate:
 * every key that repeats an earlier one is among the candidates (a Bloom filter has no false
 * negatives), with a few that do not (about 1 in 300 keys at a million rows). The filter is sized to the input,
 * not to its largest case: a smaller one stays in the processor's caches, and each key costs a
 * cache miss less often. A key rule then searches the day's rows
 * for the candidates only, instead of sorting or hashing every key. Past `maxBytes` of
 * candidates (a file of tens of millions of rows, where the filter fills) the search is given
 * up: `keys()` is undefined and the key rule searches every row, as it would without it.
 */
import { CopyWriter } from './copy-writer';

/** The filter's most words (8 MiB), and its fewest (256 KiB). */
const MAX_WORDS = 1 << 21;
const MIN_WORDS = 1 << 16;
const TAB = 0x09;
const LF = 0x0a;

/** At most this many bytes of candidate keys (COPY text) are kept; past it the search is given up. */
export const MAX_BYTES = 16 << 20;

/**
 * The filter's words for an input of `bytes` (unknown: the most): a power of two near one word
 * for two records of 32 bytes, so that its words hold two or three keys each.
 */
export function filterWords(bytes?: number): number {
  if (bytes === undefined) return MAX_WORDS;
  let words = MIN_WORDS;
  while (words < MAX_WORDS && words * 2 <= bytes / 64) words *= 2;
  return words;
}

/** The filter's words in memory that threads share (a file read in two parts, src/data/csv-split.ts). */
export const sharedFilter = (words: number): SharedArrayBuffer => new SharedArrayBuffer(words * 4);

export class RepeatedKeys {
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly shared: boolean;

  /**
   * `filter`: words shared with another thread's RepeatedKeys reading another part of the same
   * input. Each key's bits are then set by one atomic OR that returns the word as it was, so of
   * two threads adding one key, the second sees all its bits set: no repeat is missed. Otherwise
   * the filter has `filter` words (filterWords).
   */
  constructor(
    private readonly maxBytes = MAX_BYTES,
    filter: SharedArrayBuffer | number = MAX_WORDS,
  ) {
    this.shared = typeof filter !== 'number';
    this.words = typeof filter === 'number' ? new Int32Array(filter) : new Int32Array(filter, 0, filter.byteLength / 4);
    this.mask = this.words.length - 1;
  }

  private candidates: CopyWriter | undefined = new CopyWriter();
  private count = 0;

  /**
   * Adds a record's key: `spans` holds [start, end) of each key column's COPY text in `src`
   * (one column after the other; a key's columns are required, never NULL).
   */
  add(src: Buffer, spans: Int32Array): void {
    if (!this.candidates) return;
    // FNV-1a over the columns' bytes, a TAB between columns (COPY text holds no raw TAB).
    let h = 0x811c9dc5;
    for (let k = 0; k < spans.length; k += 2) {
      const s = spans[k];
      const e = spans[k + 1];
      for (let i = s; i < e; i++) h = Math.imul(h ^ src[i], 0x01000193);
      h = Math.imul(h ^ TAB, 0x01000193);
    }
    // The word from a second mix of the hash (murmur3's finalizer), the bits from the first.
    let w = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    w = Math.imul(w ^ (w >>> 13), 0xc2b2ae35);
    w ^= w >>> 16;
    const bits = (1 << (h & 31)) | (1 << ((h >>> 5) & 31)) | (1 << ((h >>> 10) & 31));
    const at = w & this.mask;
    if (this.shared) {
      if ((Atomics.or(this.words, at, bits) & bits) !== bits) return;
    } else {
      const word = this.words[at];
      if ((word & bits) !== bits) {
        this.words[at] = word | bits;
        return;
      }
    }
    const out = this.candidates;
    for (let k = 0; k < spans.length; k += 2) {
      if (k) out.byte(TAB);
      out.plain(src, spans[k], spans[k + 1]);
    }
    out.byte(LF);
    this.count++;
    if (out.length > this.maxBytes) this.candidates = undefined;
  }

  /** The candidates as COPY text rows (the key's columns), and how many; undefined once given up. */
  keys(): { rows: Buffer; count: number } | undefined {
    return this.candidates && { rows: this.candidates.take(), count: this.count };
  }
}
