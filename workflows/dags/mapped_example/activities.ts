/**
 * mapped_example's own tasks: the day's partitions, one mark per partition (an instance of a
 * mapped task each), and a total over the instances' outputs. A mark is a file under the data
 * directory, written once: an instance run again (its worker died mid-way) finds it there.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { failTask, type TaskContext } from 'baton/task';

/** The partitions of the day to process: 0 to count - 1 (in a real DAG, the files of a folder, the keys of a table). */
export async function listPartitions({ count }: { count: number }): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0) throw failTask(`count must be a whole number, got ${JSON.stringify(count)}`, 'InvalidInput');
  return Array.from({ length: count }, (_, i) => i);
}

/** Marks one partition of the day done: `mapped_example/<ds>/<partition>.done`, holding its number, written once. */
export async function markPartition(
  { ds, partition }: { ds: string; partition: number },
  context: TaskContext,
): Promise<{ partition: number; written: boolean }> {
  const dir = context.dataPath(path.join('mapped_example', ds));
  const file = path.join(dir, `${partition}.done`);
  await mkdir(dir, { recursive: true });
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined) return { partition, written: false };
  const temp = `${file}.${process.pid}.${context.attempt}.tmp`;
  await writeFile(temp, String(partition));
  await rename(temp, file);
  return { partition, written: true };
}

/** The day's total: how many partitions are marked, and the sum of their numbers (a checksum of the marks). */
export async function summarize(
  { ds, marks }: { ds: string; marks: Array<{ partition: number }> },
  context: TaskContext,
): Promise<{ partitions: number; checksum: number }> {
  const dir = context.dataPath(path.join('mapped_example', ds));
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.done'));
  let checksum = 0;
  for (const f of files) checksum += Number(await readFile(path.join(dir, f), 'utf8'));
  if (files.length !== marks.length) throw failTask(`${marks.length} partitions reported, ${files.length} marked in ${dir}`, 'MarksMissing');
  return { partitions: files.length, checksum };
}
