/**
 * DAG files found under a dags folder (src/dag-files.ts): `<dag>.ts` and `<dag>/dag.ts`, their
 * activities modules, every load problem named with its file, and the bundle's generated entry.
 */
import type { WorkerClients } from '../../activities/operators/contracts';
import assert from '../support/assert';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { dagFiles, DagFileError, loadDagFile, loadDags, loadUserActivities, writeWorkflowsEntry } from '../../src/dag-files';
import { tempDir } from '../support';

let dir = '';

/** A DAG file that imports Baton by its package name, as a team's own repository does. */
const dagSource = (dagId: string, tasks: string) => `import { command, dag, ownTasks } from 'baton/sdk';
const own = ownTasks<Record<string, () => Promise<unknown>>>();
export default dag({ dagId: '${dagId}', schedule: '@daily', startDate: '2024-01-01' }, () => { ${tasks} });
`;

beforeAll(async () => {
  dir = await tempDir('baton-dags-');
  await writeFile(path.join(dir, 'flat.ts'), dagSource('flat', "command('a', { argv: ['true'] });"));
  await writeFile(path.join(dir, 'flat.activities.ts'), 'export async function enrich() { return { rows: 1 }; }\n');
  await mkdir(path.join(dir, 'with_folder', 'sql'), { recursive: true });
  await writeFile(path.join(dir, 'with_folder', 'dag.ts'), dagSource('with_folder', "own.big('a');"));
  await writeFile(path.join(dir, 'with_folder', 'activities.ts'), "export async function big() { return { blob: 'x'.repeat(20000) }; }\n");
  await mkdir(path.join(dir, 'not_a_dag'));
  await writeFile(path.join(dir, 'README.md'), 'not a DAG\n');
});

test('a DAG is <dag>.ts or <dag>/dag.ts, with <dag>.activities.ts or <dag>/activities.ts beside it', () => {
  assert.deepEqual(
    dagFiles(dir).map((f) => [path.relative(dir, f.file), path.relative(dir, f.folder), f.activities && path.relative(dir, f.activities)]),
    [
      ['flat.ts', 'flat', 'flat.activities.ts'],
      ['with_folder/dag.ts', 'with_folder', 'with_folder/activities.ts'],
    ],
  );
  assert.deepEqual(
    loadDags(dir).map((d) => [d.dag.dagId, d.dag.tasks.length]),
    [
      ['flat', 1],
      ['with_folder', 1],
    ],
  );
});

test("a DAG's activities are registered by dag_id and name, and refuse an output too large for XCom", async () => {
  const [flat, withFolder] = loadDags(dir);
  // These activities use none of the worker's clients.
  const context = { config: { dataDir: dir, sensors: {} }, logger: { child: () => ({}) } } as unknown as WorkerClients;
  const flatActivities = loadUserActivities(flat, context);
  assert.deepEqual(Object.keys(flatActivities), ['flat.enrich']);
  assert.deepEqual(await flatActivities['flat.enrich']({ dagId: 'flat', taskId: 'a', ds: '2024-01-01', attempt: 1, args: null }), { rows: 1 });
  await assert.rejects(
    Promise.resolve(
      loadUserActivities(withFolder, context)['with_folder.big']({ dagId: 'with_folder', taskId: 'a', ds: '2024-01-01', attempt: 1, args: null }),
    ),
    /^ApplicationFailure: big returned 20011 bytes, more than the 16384 XCom holds/,
  );
});

test('every problem of a DAG file is named with the file', async () => {
  const broken = await tempDir('baton-dags-broken-');
  const problem = async (name: string, source: string, activities?: string) => {
    await writeFile(path.join(broken, name), source);
    if (activities) await writeFile(path.join(broken, name.replace(/\.ts$/, '.activities.ts')), activities);
    const [entry] = dagFiles(broken).filter((f) => f.file.endsWith(name));
    try {
      loadUserActivities(loadDagFile(entry));
    } catch (err) {
      assert.ok(err instanceof DagFileError, String(err));
      return err.message.replace(broken, '<dir>');
    }
    assert.fail(`${name} loaded`);
  };
  assert.match(await problem('syntax.ts', 'export default dag({'), /syntax\.ts: it does not load: /);
  assert.match(
    await problem('no_default.ts', 'export const x = 1;\n'),
    /no_default\.ts: it has no default export: end it with `export default dag\(\{\.\.\.\}, \(\) => \{ \.\.\. \}\)`$/,
  );
  assert.match(
    await problem('cycle.ts', dagSource('cycle', "command('a', { argv: ['{{ xcom.b.tail }}'] }); command('b', { argv: ['{{ xcom.a.tail }}'] });")),
    /cycle\.ts \(DAG "cycle"\): the tasks form a cycle: a >> b >> a$/,
  );
  assert.match(
    await problem('missing.ts', dagSource('missing', "own.enrich('a');"), 'export const other = async () => 1;\n'),
    /missing\.ts \(DAG "missing"\): task a: enrich is not a function exported by .*missing\.activities\.ts$/,
  );
  const dupes = await tempDir('baton-dags-twins-');
  await mkdir(path.join(dupes, 'twin'));
  await writeFile(path.join(dupes, 'twin', 'dag.ts'), dagSource('flat', "command('a', { argv: ['true'] });"));
  await writeFile(path.join(dupes, 'flat.ts'), dagSource('flat', "command('a', { argv: ['true'] });"));
  assert.throws(() => loadDags(dupes), /twin\/dag\.ts \(DAG "flat"\): its dag_id or workflow type is also .*flat\.ts's/);
});

test("the bundle's entry imports every DAG file of the folder, and no activities module", async () => {
  const out = await tempDir('baton-entry-');
  const entry = writeWorkflowsEntry(dir, out);
  // Written again only when the DAG files changed: a read-only deployment builds it into the image.
  const written = (await stat(entry)).mtimeMs;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(writeWorkflowsEntry(dir, out), entry);
  assert.equal((await stat(entry)).mtimeMs, written);
  const text = await readFile(entry, 'utf8');
  const imports = [...text.matchAll(/^import dag\d+ from "(.*)";$/gm)].map((m) => path.resolve(path.dirname(entry), m[1]));
  assert.deepEqual(imports, [path.join(dir, 'flat'), path.join(dir, 'with_folder', 'dag')]);
  assert.match(text, /^registerDagFiles\(\[dag0, dag1\]\);$/m);
  assert.match(text, /^export \{ dagFileWorkflow as default \} from ".*workflows\/dag-registry";$/m);
  assert.doesNotMatch(text, /activities/);
});
