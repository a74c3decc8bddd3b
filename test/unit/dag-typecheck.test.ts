/**
 * tsc over a DAGs folder (src/dag-typecheck.ts): each error named with the task that holds it,
 * each task's output fields read from its type, and the check cached by what it read.
 */
import assert from '../support/assert';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { dagFiles } from '../../src/dag-files';
import { typecheckDags } from '../../src/dag-typecheck';
import { tempDir } from '../support';

const DAG = `import { command, dag, ownTasks, sql } from 'baton/sdk';
const own = ownTasks<typeof import('./activities')>();
export default dag({ dagId: 'checked', schedule: '@daily', startDate: '2024-01-01' }, ({ ds }) => {
  const made = own.make('make', { args: { ds } });
  const echo = command('echo', { argv: ['echo', \`\${made.path}\`] });
  const row = sql<{ n: number }>('row', { conn: 'warehouse', sql: 'SELECT 1 AS n', output: 'firstRow' });
  sql('none', { conn: 'warehouse', sql: 'SELECT 1', output: 'none' });
  return { tail: echo.tial, n: row.n };
});
`;

test("tsc's errors name their task, and each task's output fields come from its type; a second check is read from the cache", async () => {
  const dir = await tempDir('baton-typecheck-');
  await mkdir(path.join(dir, 'checked'));
  await writeFile(path.join(dir, 'checked', 'dag.ts'), DAG.replace('{ args: { ds } }', '{ args: { day: ds } }'));
  await writeFile(
    path.join(dir, 'checked', 'activities.ts'),
    'export async function make(args: { ds: string }) { return { path: `raw/${args.ds}.csv`, rows: 3 }; }\n',
  );
  const cache = path.join(dir, '.cache');
  const [entry] = dagFiles(dir);
  const first = typecheckDags([entry], dir, cache).get(entry.file)!;
  assert.deepEqual(first.problems, [
    "task make: Object literal may only specify known properties, and 'day' does not exist in type 'OwnArgs<{ ds: string; }, NoInputs>'. (line 4)",
    "Property 'tial' does not exist on type 'TaskOf<CommandOutput>'. (line 8)",
  ]);
  assert.deepEqual(first.outputs, { make: ['path', 'rows'], echo: ['exitCode', 'tail'], row: ['n'], none: [] });
  assert.equal((await readdir(cache)).length, 1);
  // The cache answers while no file the check read has changed, and a change is checked afresh.
  assert.deepEqual(typecheckDags([entry], dir, cache).get(entry.file), first);
  await writeFile(path.join(dir, 'checked', 'dag.ts'), DAG);
  const fixed = typecheckDags([entry], dir, cache).get(entry.file)!;
  assert.deepEqual(fixed.problems, ["Property 'tial' does not exist on type 'TaskOf<CommandOutput>'. (line 8)"]);
  // A worker checks in a child process (its memory goes with it): the same findings, the same cache.
  const isolated = path.join(dir, '.isolated');
  assert.deepEqual(typecheckDags([entry], dir, isolated, { isolate: true }).get(entry.file), fixed);
  assert.equal((await readdir(isolated)).length, 1);
  // A tsconfig the project adds is part of the check's key: the check runs again under it.
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: true } }));
  assert.deepEqual(typecheckDags([entry], dir, isolated, { isolate: true }).get(entry.file), fixed);
  assert.equal((await readdir(isolated)).length, 2);
});

test('a module that does not resolve is named, and not cached: it may be there next time', async () => {
  const dir = await tempDir('baton-typecheck-missing-');
  await writeFile(
    path.join(dir, 'lonely.ts'),
    "import { helper } from './helpers';\nimport { dag, empty } from 'baton/sdk';\nexport default dag({ dagId: 'lonely', schedule: '@daily', startDate: '2024-01-01' }, () => void empty(helper));\n",
  );
  const cache = path.join(dir, '.cache');
  const [entry] = dagFiles(dir);
  assert.deepEqual(typecheckDags([entry], dir, cache).get(entry.file)!.problems, [
    "Cannot find module './helpers' or its corresponding type declarations. (line 1)",
  ]);
  await writeFile(path.join(dir, 'helpers.ts'), "export const helper = 'a';\n");
  assert.deepEqual(typecheckDags([entry], dir, cache).get(entry.file)!.problems, []);
});

test("a group's tasks are named by their dotted ids, in tsc's errors and in the output fields it reads; reads of what a group returned are typed", async () => {
  const dir = await tempDir('baton-typecheck-groups-');
  await mkdir(path.join(dir, 'grouped'));
  await writeFile(
    path.join(dir, 'grouped', 'dag.ts'),
    `import { command, dag, group, ownTasks, sql } from 'baton/sdk';
const own = ownTasks<typeof import('./activities')>();
export default dag({ dagId: 'grouped', schedule: '@daily', startDate: '2024-01-01' }, ({ ds }) => {
  const load = group('load', () => {
    const made = own.make('make', { args: { day: ds } });
    const eu = group('eu', () => ({ count: sql('count', { conn: 'warehouse', sql: 'SELECT 1' }) }));
    return { made, eu };
  });
  command('report', { argv: ['report', \`\${load.made.path}\`, \`\${load.eu.count.rowz}\`], upstream: [load] });
});
`,
  );
  await writeFile(
    path.join(dir, 'grouped', 'activities.ts'),
    'export async function make(args: { ds: string }) { return { path: `raw/${args.ds}.csv`, rows: 3 }; }\n',
  );
  const [entry] = dagFiles(dir);
  const checked = typecheckDags([entry], dir).get(entry.file)!;
  assert.deepEqual(checked.problems, [
    "task load.make: Object literal may only specify known properties, and 'day' does not exist in type 'OwnArgs<{ ds: string; }, NoInputs>'. (line 5)",
    "task report: Property 'rowz' does not exist on type 'TaskOf<SqlRowCountOutput>'. (line 9)",
  ]);
  assert.deepEqual(checked.outputs, { 'load.make': ['path', 'rows'], 'load.eu.count': ['rows'], report: ['exitCode', 'tail'] });
});

test("expand is typed: its items by the list it maps over, its args by the function each instance runs, its output as a list of that function's outputs", async () => {
  const dir = await tempDir('baton-typecheck-expand-');
  await mkdir(path.join(dir, 'mapped'));
  await writeFile(
    path.join(dir, 'mapped', 'dag.ts'),
    `import { dag, ownTasks } from 'baton/sdk';
const own = ownTasks<typeof import('./activities')>();
export default dag({ dagId: 'mapped', schedule: '@daily', startDate: '2024-01-01' }, () => {
  const files = own.list('list', { args: { dir: 'raw' } });
  const loaded = own.load.expand('load', { over: files, args: (file) => ({ path: file }), label: (file) => file, maxActive: 8 });
  own.sum('sum', { args: { counts: loaded } });
  own.load.expand('wrong_args', { over: files, args: (file) => ({ pth: file }) });
  own.sum.expand('no_args', { over: files });
  own.sum('wrong_list', { args: { counts: files } });
});
`,
  );
  await writeFile(
    path.join(dir, 'mapped', 'activities.ts'),
    `export async function list(args: { dir: string }) { return [\`\${args.dir}/a.csv\`]; }
export async function load(args: { path: string }) { return { rows: args.path.length }; }
export async function sum(args: { counts: Array<{ rows: number }> }) { return { total: args.counts.length }; }
`,
  );
  const [entry] = dagFiles(dir);
  const checked = typecheckDags([entry], dir, path.join(dir, '.cache')).get(entry.file)!;
  // Lines 4 to 6 are right: a list of strings mapped to { path }, its outputs read as { rows }[].
  assert.deepEqual(checked.problems, [
    "task wrong_args: Property 'path' is missing in type '{ pth: string; }' but required in type '{ path: string; }'. (line 7)",
    "task no_args: Argument of type '{ over: TaskOf<string[]>; }' is not assignable to parameter of type 'ExpandSettings<string, { counts: { rows: number; }[]; }, { total: number; }, NoInputs>'. Property 'args' is missing in type '{ over: TaskOf<string[]>; }' but required in type '{ args: (item: string, index: number, run: Run) => { counts: { rows: number; }[]; }; }'. (line 8)",
    "task wrong_list: Type 'TaskOf<string[]>' is not assignable to type 'Refable<{ rows: number; }[]>'. Type 'TaskOf<string[]>' is not assignable to type 'Ref<{ rows: number; }[]>'. Type 'TaskOf<string[]>' is not assignable to type '{ readonly [VALUE]: { rows: number; }[]; }'. Types of property '[VALUE]' are incompatible. Type 'string[]' is not assignable to type '{ rows: number; }[]'. Type 'string' is not assignable to type '{ rows: number; }'. (line 9)",
  ]);
});
