/**
 * A team's project (src/config.ts, src/init.ts): where Baton finds the project and its settings,
 * every bad setting named, and what `baton init` writes, keeping what is there.
 */
import assert from '../support/assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { ConfigError, loadProject, projectRoot } from '../../src/config';
import { InitError, initProject, projectName } from '../../src/init';
import { tempDir } from '../support';

test('the project is the nearest folder up with a baton.config.json, or Baton itself, or the folder a command runs in', async () => {
  const root = await tempDir('baton-project-');
  await writeFile(path.join(root, 'baton.config.json'), JSON.stringify({ dags: 'pipelines', taskQueue: 'team-a' }));
  await mkdir(path.join(root, 'pipelines', 'deep'), { recursive: true });
  assert.deepEqual(loadProject({}, path.join(root, 'pipelines', 'deep')), { dir: root, dagsDir: path.join(root, 'pipelines'), taskQueue: 'team-a' });
  assert.deepEqual(loadProject({ BATON_DAGS_DIR: 'other', BATON_TASK_QUEUE: 'team-b' }, root), {
    dir: root,
    dagsDir: path.join(root, 'other'),
    taskQueue: 'team-b',
  });
  // Baton's own checkout says where its DAGs are.
  assert.deepEqual(loadProject({}, path.join(projectRoot, 'src')), {
    dir: projectRoot,
    dagsDir: path.join(projectRoot, 'workflows', 'dags'),
    taskQueue: 'etl',
  });
  const bare = await tempDir('baton-bare-');
  assert.deepEqual(loadProject({}, bare), { dir: bare, dagsDir: path.join(bare, 'dags'), taskQueue: 'etl' });
  assert.deepEqual(loadProject({ BATON_PROJECT_DIR: root }, bare).dir, root);
});

test('a bad project file or task queue is named with what was expected', async () => {
  const root = await tempDir('baton-project-bad-');
  const file = path.join(root, 'baton.config.json');
  const refused = async (text: string) => {
    await writeFile(file, text);
    assert.throws(() => loadProject({}, root), ConfigError);
    try {
      loadProject({}, root);
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };
  assert.equal(await refused('{"dags": "../elsewhere"}'), `${file}: dags: a folder inside the project (relative, without ..)`);
  assert.equal(await refused('{"taskQueue": "a queue"}'), `${file}: taskQueue: letters, digits, . _ and -`);
  assert.equal(await refused('{"dag": "x"}'), `${file}: settings: Unrecognized key: "dag"`);
  assert.match(await refused('{"dags": '), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not JSON \\(`));
  await writeFile(file, '{}');
  assert.throws(() => loadProject({ BATON_TASK_QUEUE: 'no way' }, root), /BATON_TASK_QUEUE: letters, digits, \. _ and -/);
});

test('baton init writes a project that depends on Baton, and keeps what is there', async () => {
  const root = path.join(await tempDir('baton-init-'), 'Team Pipelines');
  await mkdir(root);
  await writeFile(
    path.join(root, 'package.json'),
    JSON.stringify({ name: 'team', scripts: { test: 'echo "Error: no test specified" && exit 1', lint: 'eslint .' } }),
  );
  await writeFile(path.join(root, 'README.md'), '# ours\n');
  const written = await initProject(root, { batonSpec: 'file:../baton.tgz' });
  assert.deepEqual(written, [
    'package.json',
    'tsconfig.json',
    'baton.config.json',
    'dags/team_pipelines_hello/dag.ts',
    'dags/team_pipelines_hello/activities.ts',
    'test/team_pipelines_hello.test.ts',
    '.gitignore',
  ]);
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
  assert.equal(pkg.name as unknown as string, 'team');
  assert.deepEqual(pkg.scripts, { start: 'baton start', test: 'tsc -p . && jest', lint: 'eslint .' });
  assert.equal(pkg.dependencies.baton, 'file:../baton.tgz');
  assert.equal(await readFile(path.join(root, 'README.md'), 'utf8'), '# ours\n');
  assert.deepEqual(JSON.parse(await readFile(path.join(root, 'baton.config.json'), 'utf8')), { dags: 'dags', taskQueue: 'team-pipelines' });
  assert.match(await readFile(path.join(root, 'dags', 'team_pipelines_hello', 'dag.ts'), 'utf8'), /from 'baton\/sdk'/);
  // Twice is once.
  assert.deepEqual(await initProject(root, { batonSpec: 'file:../baton.tgz' }), []);
  assert.throws(() => projectName('/tmp/---'), InitError);
});
