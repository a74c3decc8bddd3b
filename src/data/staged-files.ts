/**
 * Staged files and their atomic publish, under the data directory: a call's scratch folder, a
 * FileRef checked against the bytes it was made of, a Parquet schema check, and the
 * fsync-then-rename that lets readers see the old file or the new one, never a part.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { FileRef } from '../contracts';
import { sha256File } from './data-dir';
import type { DuckdbSession } from './duckdb-session';

const nonRetryable = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

/** The staged-file helpers for one data directory (`root`, absolute). */
export function stagedFiles(root: string) {
  const relative = (file: string) => path.relative(root, file).split(path.sep).join('/');

  /** `staging/.work/<uuid>`: one call's scratch space (numbered CSV, DuckDB's spill files), always removed. */
  async function withWorkDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = path.join(root, 'staging', '.work', randomUUID());
    await mkdir(dir, { recursive: true });
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The staged file a FileRef names, checked: inside the data directory, still there, and
   * still the bytes it was made of (size and sha256), so a task never reads other rows than
   * the ones its input reference counted.
   */
  async function stagedFile(ref: FileRef, task: string): Promise<string> {
    if (
      !ref ||
      typeof ref !== 'object' ||
      typeof ref.path !== 'string' ||
      typeof ref.sha256 !== 'string' ||
      !Number.isInteger(ref.rows) ||
      !Number.isInteger(ref.bytes)
    ) {
      throw nonRetryable(`${task}: input must be a FileRef { path, rows, bytes, sha256 }, got ${JSON.stringify(ref)?.slice(0, 300)}`, 'InvalidFileRef');
    }
    const file = path.resolve(root, ref.path);
    if (path.isAbsolute(ref.path) || !file.startsWith(root + path.sep)) {
      throw nonRetryable(`${task}: input path ${JSON.stringify(ref.path)} is not inside the data directory ${root}`, 'InvalidPath');
    }
    const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
        throw nonRetryable(`${task}: staged file ${ref.path} is missing (${file}): run the task that made it again`, 'StagedFileMissing');
      }
      throw err;
    });
    if (!info.isFile()) throw nonRetryable(`${task}: staged file ${ref.path} is not a regular file (${file})`, 'StagedFileMissing');
    const sha256 = info.size === ref.bytes ? await sha256File(file) : undefined;
    if (sha256 !== ref.sha256) {
      throw nonRetryable(
        `${task}: staged file ${ref.path} changed since it was made: ${info.size} bytes${sha256 ? ` sha256 ${sha256}` : ''}, expected ${ref.bytes} bytes sha256 ${ref.sha256}`,
        'StagedFileChanged',
      );
    }
    return file;
  }

  /** Fails unless a Parquet file has `expected` columns with these types (others are allowed). */
  async function checkParquetSchema(
    db: DuckdbSession,
    file: string,
    expected: readonly (readonly [string, string])[],
    task: string,
    what: string,
  ): Promise<void> {
    const actual = await db.parquetColumns(file).catch((err: Error) => {
      throw nonRetryable(`${task}: ${relative(file)} is not ${what}: not a Parquet file (${err.message.split('\n')[0]})`, 'WrongSchema');
    });
    const wrong = expected.filter(([name, type]) => actual.get(name) !== type);
    if (wrong.length) {
      const found = [...actual].map(([n, t]) => `${n} ${t}`).join(', ');
      throw nonRetryable(
        `${task}: ${relative(file)} is not ${what}: expected ${wrong.map(([n, t]) => `${n} ${t}`).join(', ')}; found ${found || 'no columns'}`,
        'WrongSchema',
      );
    }
  }

  /**
   * A written file made durable and moved into place: fsync, sha256 (or the one its writer
   * computed while writing `known.bytes`, checked against the size), then rename to the name
   * `finalName` gives for its hash (a content-named staged file, or a fixed output name), and
   * fsync of the folder so the rename survives a crash. Readers see the old file or the new
   * one, never a part.
   */
  async function publish(tmp: string, finalName: (sha256: string) => string, rows: number, known?: { bytes: number; sha256: string }): Promise<FileRef> {
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const { size } = await stat(tmp);
    if (known && known.bytes !== size) throw new Error(`${relative(tmp)} has ${size} bytes, ${known.bytes} were written`);
    const sha256 = known?.sha256 ?? (await sha256File(tmp));
    const file = finalName(sha256);
    await rename(tmp, file);
    const folder = await open(path.dirname(file), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    return { path: relative(file), rows, bytes: size, sha256 };
  }

  /** A temp file name in `dir`, the folder of the file it becomes (so the rename is atomic), hidden by its leading dot. */
  const tempBeside = (dir: string, base: string) => path.join(dir, `.${base}.${randomUUID().slice(0, 8)}.tmp`);

  return { relative, withWorkDir, stagedFile, checkParquetSchema, publish, tempBeside };
}
