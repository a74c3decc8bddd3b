/**
 * tsc over the DAG files of a folder, before any of them runs: every type error of a DAG file
 * (a field its upstream does not output, a task that is not there, an arg of the wrong type)
 * named with its DAG and task, and the output fields of each task as tsc reads them from the
 * operator's output type or the own task's function, for the checks of template strings that
 * tsc cannot read (`{{ xcom.fiscal_day.yeer }}`). The result is cached by the content of every
 * project file the check read, so a worker or a CLI command checks a folder once per change.
 * tsc itself is in src/dag-typecheck-program.ts, run in this process or, for a worker, in a
 * child process (src/dag-typecheck-child.ts): its program takes some 300 MB that a process
 * which goes on running would keep.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './config';
import type { DagFile } from './dag-files';
import type { DagTypesCheck } from './dag-typecheck-program';

/** What the check found in one DAG file. */
export interface DagFileTypes {
  /** tsc's errors in the file or its activities module, each naming the task it is in. */
  problems: string[];
  /** Each task's output fields (`*`: any field may be there), by task id. */
  outputs: Record<string, readonly string[] | '*'>;
}

interface CacheEntry {
  version: number;
  /** sha256 of every project file the check read, by path. */
  inputs: Record<string, string>;
  results: Record<string, DagFileTypes>;
}

/** Bumped when what the check reports changes, so no cached report outlives it. */
const CACHE_VERSION = 3;

let version: string | undefined;
const batonVersion = () => (version ??= (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface TypecheckOptions {
  /** Run tsc in a child process, so that its memory goes with it: for a process that goes on running (a worker). */
  isolate?: boolean;
}

/** Type-checks the DAG files (and their activities modules); cached under `cacheDir` when given. */
export function typecheckDags(files: readonly DagFile[], projectDir: string, cacheDir?: string, options: TypecheckOptions = {}): Map<string, DagFileTypes> {
  // The same files under another tsconfig or another Baton are another check.
  const tsconfig = path.join(projectDir, 'tsconfig.json');
  const config = existsSync(tsconfig) ? readFileSync(tsconfig, 'utf8') : '';
  const key = sha256([...files.map((f) => f.file), config, projectRoot, batonVersion()].join('\n')).slice(0, 16);
  const cacheFile = cacheDir && path.join(cacheDir, `${key}.json`);
  const cached = cacheFile ? readCache(cacheFile) : undefined;
  if (cached) return new Map(Object.entries(cached.results));
  const check = options.isolate ? checkInChild(files, projectDir) : checkInProcess(files, projectDir);
  if (cacheFile && !check.unresolved) writeCache(cacheFile, { version: CACHE_VERSION, inputs: check.inputs, results: check.results });
  return new Map(Object.entries(check.results));
}

function checkInProcess(files: readonly DagFile[], projectDir: string): DagTypesCheck {
  // Loaded here, not at the top: TypeScript alone is some 50 MB.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { checkDagTypes } = require('./dag-typecheck-program') as typeof import('./dag-typecheck-program');
  return checkDagTypes(files, projectDir);
}

/** The check in `node --import tsx src/dag-typecheck-child.ts`: the files in on stdin, the check out on stdout, as JSON. */
function checkInChild(files: readonly DagFile[], projectDir: string): DagTypesCheck {
  const child = spawnSync(process.execPath, ['--import', require.resolve('tsx'), path.join(projectRoot, 'src', 'dag-typecheck-child.ts')], {
    input: JSON.stringify({ files, projectDir }),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (child.error) throw child.error;
  if (child.status !== 0) throw new Error(`the DAG files' type check failed (exit ${child.status ?? child.signal}): ${child.stderr.trim().slice(-2000)}`);
  return JSON.parse(child.stdout) as DagTypesCheck;
}

function readCache(file: string): CacheEntry | undefined {
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
    if (entry.version !== CACHE_VERSION) return undefined;
    for (const [input, hash] of Object.entries(entry.inputs)) {
      if (!existsSync(input) || sha256(readFileSync(input, 'utf8')) !== hash) return undefined;
    }
    return entry;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, entry: CacheEntry): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entry));
  renameSync(tmp, file);
}
