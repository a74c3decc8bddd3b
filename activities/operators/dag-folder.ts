/**
 * A file of a DAG's own folder (its SQL, its dbt project), found from the DAG files under
 * workflows/dags/ and confined to that folder: `..` or a symlink out of it is refused.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';

/** Each DAG's folder by dag_id, as the worker loaded them (src/dag-files.ts). */
export type DagFolders = ReadonlyMap<string, string>;

export async function dagFolderFile(folders: DagFolders, dagId: string, relative: string): Promise<string> {
  const folder = folders.get(dagId);
  if (!folder) throw ApplicationFailure.nonRetryable(`${dagId}: this worker has no DAG file for it`, 'FileNotFound');
  let real: string;
  let root: string;
  try {
    root = await realpath(folder);
    real = await realpath(path.resolve(folder, relative));
  } catch {
    throw ApplicationFailure.nonRetryable(`${dagId}: ${relative} not found in ${path.relative(process.cwd(), folder) || folder}`, 'FileNotFound');
  }
  if (real !== root && !real.startsWith(root + path.sep))
    throw ApplicationFailure.nonRetryable(`${dagId}: ${relative} leaves the DAG's folder`, 'PathOutsideDag');
  return real;
}
