/**
 * Where a CSV file can be read in two parts, one on each core, with the same result as one read
 * from its first byte: a line start before which the reader is provably at a record start.
 *
 * The reader's records end at an LF, and a record that holds no quote is one line. Take a line
 * start `at` whose previous `maxRecordBytes + 2` bytes hold no quote. Whatever the reader is
 * doing when it comes to that window, a record that started before it and is still open there
 * would be longer than `maxRecordBytes`: it is rejected with its first line, and the lines after
 * it are read again as records of their own (src/data/csv.ts). A record that starts inside the
 * window holds no quote, so it ends at its own line's LF. Either way the reader is at a record
 * start at `at`, on line 1 + the LFs before it, and what it decided about every earlier record
 * depended only on the bytes before `at`. So the part from `at` on can be read by a second
 * reader that starts there (CsvReaderOptions.resume), and the counts of the two added up. The
 * header must end before the window too: it is one line, found before `at`.
 *
 * The first part's reader checks that it is at a record start when its bytes end (Reader's
 * atRecordStart); stageCsv reads the file in one part again if it ever is not.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ColumnContract } from '../column-contract';
import type { CsvLineAccount } from './csv-record';
import type { PartCounts } from './staging-part';

const QUOTE = 0x22;
const LF = 0x0a;

/** Set where the worker is compiled into one file (src/build.ts): the project it was compiled from. */
declare const BATON_COMPILED_FROM: string | undefined;

/** The second part's thread: TypeScript source beside this module, or in the project a compiled worker came from. */
const THREAD_ENTRY =
  typeof BATON_COMPILED_FROM === 'string' ? path.join(BATON_COMPILED_FROM, 'src', 'data', 'csv-split-thread.ts') : path.join(__dirname, 'csv-split-thread.ts');

/** A part's boundary: its first byte, and the line that byte starts. */
export interface SplitPoint {
  at: number;
  line: number;
}

export interface FindSplitOptions {
  /** The earliest byte the second part may start at. */
  from: number;
  /** The latest: past it, no split is worth it. */
  until: number;
  maxRecordBytes: number;
  /** The header's line (it must be a single line, ending before the window). */
  headerLine: number;
}

/** How many quote-free bytes must come before a split point. */
export const windowBytes = (maxRecordBytes: number) => maxRecordBytes + 2;

/**
 * Reads the file from its first byte through `read` (chunks of `chunk` bytes; `read` returns how
 * many it read at a position) and returns the first line start in [from, until] whose window
 * holds no quote, after the header's line end; undefined when there is none.
 */
export async function findSplit(
  read: (buffer: Buffer, position: number) => Promise<number>,
  size: number,
  { from, until, maxRecordBytes, headerLine }: FindSplitOptions,
  chunk = 1 << 20,
): Promise<SplitPoint | undefined> {
  const window = windowBytes(maxRecordBytes);
  const last = Math.min(until, size - 1);
  const buffer = Buffer.allocUnsafe(chunk);
  let lfs = 0;
  /** Where the header's line ends (after its LF), once found. */
  let headerEnd = -1;
  /** The last quote before the LF looked at (from `from` on), or before the chunk read. */
  let lastQuote = -1;
  for (let position = 0; position <= last; ) {
    const n = await read(buffer, position);
    if (n <= 0) return undefined;
    const nextQuote = (after: number) => {
      const q = buffer.indexOf(QUOTE, after);
      return q >= n ? -1 : q;
    };
    let quote = -2; // the next quote after the LF looked at; -2 until one is looked at in this chunk
    for (let i = buffer.indexOf(LF); i !== -1 && i < n; i = buffer.indexOf(LF, i + 1)) {
      lfs++;
      const at = position + i + 1;
      if (lfs === headerLine) headerEnd = at;
      if (at < from) continue;
      if (at > last) return undefined;
      if (quote === -2) {
        const back = buffer.lastIndexOf(QUOTE, i);
        if (back !== -1) lastQuote = position + back;
        quote = nextQuote(i);
      }
      for (; quote !== -1 && quote < i; quote = nextQuote(quote + 1)) lastQuote = position + quote;
      if (headerEnd !== -1 && headerEnd <= at - window && lastQuote < at - window) return { at, line: lfs + 1 };
    }
    const back = buffer.subarray(0, n).lastIndexOf(QUOTE);
    if (back !== -1) lastQuote = position + back;
    position += n;
  }
  return undefined;
}

/** What the second part's thread starts with. */
export interface SplitThreadData {
  fd: number;
  size: number;
  from: number;
  until: number;
  maxRecordBytes: number;
  contract: ColumnContract;
  ds: string;
  /** The key filter both parts share (stageCsv's keyCandidates), if any. */
  filter?: SharedArrayBuffer;
  keysMaxBytes: number;
}

/** The header as the first part's reader read it (a single line). */
export interface ThreadHeader {
  texts: string[];
  line: number;
  fields: number;
}

/** What the second part's thread posts. */
export type ThreadMessage =
  | { kind: 'split'; split: SplitPoint | null }
  | { kind: 'rows'; good: Uint8Array; bad: Uint8Array; bytes: number }
  | {
      kind: 'done';
      account: CsvLineAccount;
      counts: PartCounts;
      /** The part's key candidates; null when given up; absent without a filter. */
      keys?: { rows: Uint8Array; count: number } | null;
    }
  | { kind: 'error'; message: string; stack: string };

export type SecondPartResult = Extract<ThreadMessage, { kind: 'done' }>;

/**
 * The second part's thread, seen from the first: it starts at once (it takes some 100 ms to load)
 * and gets the header when the first part has read it; `split` is where it starts reading, or
 * undefined when it found no split point (the first part then reads the whole file); `done` its
 * counts. Each post of rows goes through `write` before the thread may post more.
 */
export class SecondPart {
  private readonly thread: Worker;
  readonly split: Promise<SplitPoint | undefined>;
  readonly done: Promise<SecondPartResult>;
  private failed?: Error;

  constructor(data: SplitThreadData, write: (good: Buffer, bad: Buffer, bytes: number) => Promise<void>) {
    // The thread loads its TypeScript source through tsx's require hook, whatever runs the worker.
    const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(THREAD_ENTRY)});`;
    this.thread = new Worker(bootstrap, { eval: true, workerData: data, stdout: false, stderr: false });
    let splitFound: (point: SplitPoint | undefined) => void = () => undefined;
    let finished: (result: SecondPartResult) => void = () => undefined;
    let fail: (err: Error) => void = () => undefined;
    this.split = new Promise((resolve) => (splitFound = resolve));
    this.done = new Promise((resolve, reject) => {
      finished = resolve;
      fail = (err) => {
        this.failed ??= err;
        splitFound(undefined);
        reject(err);
      };
    });
    this.done.catch(() => undefined);
    this.thread.on('message', (message: ThreadMessage) => {
      if (message.kind === 'split') splitFound(message.split ?? undefined);
      else if (message.kind === 'rows') {
        write(Buffer.from(message.good.buffer, message.good.byteOffset, message.good.byteLength), Buffer.from(message.bad.buffer, message.bad.byteOffset, message.bad.byteLength), message.bytes).then(
          () => this.thread.postMessage({ ack: true }),
          fail,
        );
      } else if (message.kind === 'done') finished(message);
      else {
        const err = new Error(`reading the file's second part: ${message.message}`);
        err.stack = `${err.message}\n${message.stack}`;
        fail(err);
      }
    });
    this.thread.on('error', fail);
    this.thread.on('exit', (code) => fail(new Error(`the thread reading the file's second part exited (${code})`)));
  }

  /** The header, or undefined when the file cannot be split (the thread then finds no split point). */
  header(header: ThreadHeader | undefined): void {
    this.thread.postMessage(header ? { header } : { stop: true });
  }

  /** The thread's failure, if it has failed. */
  get error(): Error | undefined {
    return this.failed;
  }

  async close(): Promise<void> {
    await this.thread.terminate();
  }
}
