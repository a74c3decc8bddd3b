/**
 * baton/testing's replayHistories, as a project's own tests call it: every recorded history
 * replays against the DAGs folder as it is, and a DAG changed in a way that would break its runs
 * in flight is refused, naming the history.
 */
import assert from '../support/assert';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { DeterminismViolationError } from '@temporalio/workflow';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { replayHistories } from 'baton/testing';
import { projectRoot } from '../../src/config';
import { HISTORIES_DIR } from '../support';

let project: string;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  project = await mkdtemp(path.join(tmpdir(), 'baton-replay-'));
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

test("every history of Baton's own DAGs replays against its DAGs folder, and each is named in the answer", async () => {
  const replayed = await replayHistories(HISTORIES_DIR, path.join(projectRoot, 'workflows', 'dags'));
  const saved = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(replayed, saved);
  assert.ok(replayed.includes('fan_in_example-happy-v1.json'));
});

test('a task added in front of the others is refused on the history it breaks, with a DeterminismViolationError naming the file', async () => {
  const dags = path.join(project, 'dags');
  const histories = path.join(project, 'histories');
  await mkdir(dags, { recursive: true });
  await mkdir(histories, { recursive: true });
  await copyFile(path.join(HISTORIES_DIR, 'fan_in_example-happy-v1.json'), path.join(histories, 'fan_in_example-happy-v1.json'));
  const original = await readFile(path.join(projectRoot, 'workflows', 'dags', 'fan_in_example.ts'), 'utf8');
  const changed = original
    .replace(
      "const weekday = command('weekday', { argv:",
      "const audit = sql('audit_first', { conn: 'warehouse', sql: 'SELECT 1' });\n    const weekday = command('weekday', { upstream: [audit], argv:",
    )
    .replace("http<{ eur: number }>('fetch_rate', { conn:", "http<{ eur: number }>('fetch_rate', { upstream: [audit], conn:");
  assert.notEqual(changed, original);
  await writeFile(path.join(dags, 'fan_in_example.ts'), changed);
  // Unchanged, the same history replays from the project's own folder.
  await writeFile(path.join(dags, 'fan_in_example.ts'), original);
  assert.deepEqual(await replayHistories(histories, dags), ['fan_in_example-happy-v1.json']);

  await writeFile(path.join(dags, 'fan_in_example.ts'), changed);
  await assert.rejects(replayHistories(histories, dags), (err: unknown) => {
    assert.ok(err instanceof DeterminismViolationError, String(err));
    assert.match(
      (err as Error).message,
      new RegExp(`^fan_in_example-happy-v1\\.json does not replay against ${dags.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
    );
    return true;
  });
});

test('a folder without histories replays nothing', async () => {
  assert.deepEqual(await replayHistories(path.join(project, 'none'), path.join(projectRoot, 'workflows', 'dags')), []);
});
