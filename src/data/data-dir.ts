/**
 * Files under the data directory: the guard that keeps every path inside it (symlinks
 * resolved), a file read as one consistent whole, and content hashes.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { SplittableFile } from './csv-load';
import { cancellationSignal, cancelledError } from './heartbeat';

/**
 * Resolves paths relative to the data directory; one that leaves it (`..`, an absolute path
 * elsewhere) is a non-retryable InvalidPath, before any file is touched. Lexical only: see
 * confinedPath for symlinks.
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
 * A path under the data directory with every symlink resolved: a file or folder that leads
 * outside it is a non-retryable InvalidPath naming the path, before a byte is read. Returns
 * undefined when the file does not exist.
 */
export async function confinedPath(dataDir: string, relative: string): Promise<string | undefined> {
  const file = dataDirResolver(dataDir)(relative);
  const root = await realpath(dataDir).catch(() => path.resolve(dataDir));
  let real: string;
  try {
    real = await realpath(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (!real.startsWith(root + path.sep)) {
    throw ApplicationFailure.nonRetryable(`${file} leads outside the data directory ${root} (through a symlink): refused, nothing read`, 'InvalidPath');
  }
  return real;
}

/** A data file opened for one consistent read. */
export interface OpenedFile extends SplittableFile {
  /** The path as the run names it (under the data directory). */
  file: string;
  handle: FileHandle;
  info: Stats;
  /**
   * Streams the file's bytes from `from` (its start) to `to` (its end), 1 MiB at a time, in one
   * reused buffer: a chunk is valid until the next is read. As stageCsv's source, a large file
   * is read in two parts at once.
   */
  chunks(from?: number, to?: number): AsyncIterable<Buffer>;
  /** Bytes handed out so far. */
  bytesRead(): number;
  /**
   * After the read: the file must still have the size and mtime it had when opened, and every
   * byte must have been read, else a retryable FileChanged ("changed while being read").
   */
  checkUnchanged(): Promise<void>;
}

/**
 * Opens `relative` under the data directory (confinedPath) as a regular file; `notFound` is the
 * message when it does not exist. Reads go through the one descriptor, so a file swapped after
 * the check is never the one read.
 */
export async function openDataFile(dataDir: string, relative: string, notFound: (file: string) => string): Promise<OpenedFile> {
  const file = dataDirResolver(dataDir)(relative);
  const real = await confinedPath(dataDir, relative);
  if (!real) throw ApplicationFailure.nonRetryable(notFound(file), 'FileNotFound');
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw ApplicationFailure.nonRetryable(`${file} is not a regular file`, 'FileNotFound');
    let read = 0;
    return {
      file,
      handle,
      info,
      fd: handle.fd,
      size: info.size,
      bytesRead: () => read,
      counted: (bytes: number) => (read += bytes),
      /** The file's bytes from `from` to `to` (each call from 0 reads it again). */
      async *chunks(from = 0, to = info.size) {
        if (from === 0) read = 0;
        const signal = cancellationSignal();
        // One buffer for the whole read: each chunk is valid until the next one is asked for (the CSV reader copies it).
        const buffer = Buffer.allocUnsafe(1 << 20);
        // Past `to` when it is the file's end: a file that grew since it was opened is read to its end, and checkUnchanged refuses it.
        const end = to === info.size ? Infinity : to;
        for (let position = from; position < end; ) {
          if (signal.aborted) return;
          const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
          if (bytesRead === 0) return;
          read += bytesRead;
          position += bytesRead;
          yield buffer.subarray(0, bytesRead);
        }
      },
      async checkUnchanged() {
        const now = await handle.stat();
        const named = await stat(real).catch(() => undefined);
        const same = (s: Stats | undefined) => s !== undefined && s.size === info.size && s.mtimeMs === info.mtimeMs && s.ino === info.ino;
        if (!same(now) || !same(named) || read !== info.size) {
          throw ApplicationFailure.retryable(
            `${file} changed while being read (${info.size} bytes at ${info.mtime.toISOString()} when opened, ${named ? `${named.size} bytes at ${named.mtime.toISOString()}` : 'gone'} after; ${read} bytes read): read again once it is complete`,
            'FileChanged',
          );
        }
      },
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Waits until `relative` has not changed for `settleMs` (as wait_for_file's settle): a file still
 * being written is never read as complete. Heartbeats through the caller's whileHeartbeating.
 */
export async function waitUntilSettled(dataDir: string, relative: string, settleMs: number, notFound: (file: string) => string): Promise<void> {
  if (settleMs <= 0) return;
  const signal = cancellationSignal();
  for (;;) {
    const real = await confinedPath(dataDir, relative);
    if (!real) throw ApplicationFailure.nonRetryable(notFound(dataDirResolver(dataDir)(relative)), 'FileNotFound');
    const ageMs = Date.now() - (await stat(real)).mtimeMs;
    if (ageMs >= settleMs) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, settleMs - ageMs + 50)));
    if (signal.aborted) throw cancelledError(signal);
  }
}

/**
 * A file's sha256, read 4 MiB at a time into one buffer (a stream pipeline costs as much again
 * as the hash); stops when the activity is cancelled.
 */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const signal = cancellationSignal();
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      if (signal.aborted) throw cancelledError(signal);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}
