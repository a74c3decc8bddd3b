/**
 * The DAG files' type check in a process of its own (src/dag-typecheck.ts, `isolate`): reads
 * `{ files, projectDir }` as JSON on stdin and writes the check (src/dag-typecheck-program.ts)
 * as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import type { DagFile } from './dag-files';
import { checkDagTypes } from './dag-typecheck-program';

const { files, projectDir } = JSON.parse(readFileSync(0, 'utf8')) as { files: DagFile[]; projectDir: string };
process.stdout.write(JSON.stringify(checkDagTypes(files, projectDir)));
