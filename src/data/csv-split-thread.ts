/**
 * The second part of a file that stageCsv reads on two threads (src/data/csv-split.ts): this
 * thread waits for the header from the first part's reader, finds the split point, reads the
 * file from there to its end through the same file descriptor, checks each record under the
 * contract, and posts its COPY text to the first thread, which writes it into the same COPY
 * streams. At most two posts wait unanswered, so memory stays bounded whatever the file's size.
 */
import { read as readFd } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { compileContract } from './contract';
import { Reader } from './csv-reader';
import { findSplit, type SplitThreadData, type ThreadHeader, type ThreadMessage } from './csv-split';
import { RepeatedKeys } from './repeated-keys';
import { StagingPart } from './staging-part';

const CHUNK = 1 << 20;
/** Posts COPY text once this much is written. */
const FLUSH_BYTES = 1 << 20;
const IN_FLIGHT = 2;

const port = parentPort!;
const data = workerData as SplitThreadData;
const post = (message: ThreadMessage) => port.postMessage(message);

let header: (h: ThreadHeader | undefined) => void = () => undefined;
const headerRead = new Promise<ThreadHeader | undefined>((resolve) => (header = resolve));
let unanswered = 0;
let answered: () => void = () => undefined;
port.on('message', (message: { header?: ThreadHeader; stop?: true; ack?: true }) => {
  if (message.ack) {
    unanswered--;
    answered();
  } else if (message.stop) {
    header(undefined);
  } else if (message.header) {
    header(message.header);
  }
});

const readAt = (buffer: Buffer, position: number) =>
  new Promise<number>((resolve, reject) => readFd(data.fd, buffer, 0, buffer.length, position, (err, n) => (err ? reject(err) : resolve(n))));

async function run(): Promise<void> {
  const found = await headerRead;
  const split =
    found &&
    (await findSplit(readAt, data.size, { from: data.from, until: data.until, maxRecordBytes: data.maxRecordBytes, headerLine: found.line }));
  post({ kind: 'split', split: split ?? null });
  if (!split || !found) return;
  const compiled = compileContract(data.contract, found.texts, data.ds);
  const keys = data.filter && compiled.keyText ? new RepeatedKeys(data.keysMaxBytes, data.filter) : undefined;
  const part = new StagingPart(compiled, keys);
  const reader = new Reader({
    maxRecordBytes: data.maxRecordBytes,
    resume: { line: split.line, fields: found.fields },
    header() {
      throw new Error('the second part of a file has no header');
    },
    record: (record) => part.record(record),
    malformed: (line, kind, reason, raw) => part.malformed(line, kind, reason, raw),
  });
  let bytes = 0;
  const flush = async () => {
    while (unanswered >= IN_FLIGHT) await new Promise<void>((resolve) => (answered = resolve));
    unanswered++;
    post({ kind: 'rows', good: part.good.take(), bad: part.bad.take(), bytes });
    bytes = 0;
  };
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (let position = split.at; position < data.size; ) {
    const n = await readAt(buffer, position);
    if (n === 0) break;
    position += n;
    bytes += n;
    reader.push(buffer.subarray(0, n));
    if (part.good.length + part.bad.length >= FLUSH_BYTES) await flush();
  }
  reader.finish();
  await flush();
  const { bytes: _bytes, ...account } = reader.result();
  const candidates = keys?.keys();
  post({
    kind: 'done',
    account,
    counts: part.counts(),
    keys: keys ? (candidates ?? null) : undefined,
  });
}

run().catch((err: Error) => post({ kind: 'error', message: err.message, stack: err.stack ?? '' }));
