/**
 * baton/testing, as a project's own tests use it: a DAG file checked as the worker checks it, and
 * run on the time-skipping test server with its tasks faked by their ids.
 */
import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import { checkDagFile, DagFileError, runDagTest } from 'baton/testing';
import { repoRoot, tempDir } from '../support';
import { writeFile } from 'node:fs/promises';

const fiscal = path.join(repoRoot, 'workflows', 'dags', 'fiscal_calendar_example.ts');

test('runDagTest runs a DAG file with its tasks faked, each given its rendered settings or its args', async () => {
  assert.deepEqual(checkDagFile(fiscal).order, ['warehouse_ready', 'create_table', 'fiscal_day', 'store']);
  const { result, calls } = await runDagTest(fiscal, {
    ds: '2024-05-06',
    conf: { fiscal_year_start_month: 7 },
    tasks: {
      create_table: () => ({}),
      fiscal_day: (args: { ds: string; startMonth: number }) => ({ year: 2024, quarter: args.startMonth === 7 ? 4 : 1, week: 45 }),
      store: () => ({ rows: 1 }),
    },
  });
  assert.deepEqual(calls.fiscal_day, { ds: '2024-05-06', startMonth: 7 });
  const store = calls.store as { conn: string; statement: { values: unknown[] } };
  assert.equal(store.conn, 'warehouse');
  assert.deepEqual(store.statement.values, ['2024-05-06', 2024, 4, 45]);
  assert.deepEqual(result.fiscal, { year: 2024, quarter: 4, week: 45 });
  assert.equal(result.state, 'success');
  assert.deepEqual(
    result.tasks.map((t) => [t.taskId, t.state]),
    [
      ['warehouse_ready', 'success'],
      ['create_table', 'success'],
      ['fiscal_day', 'success'],
      ['store', 'success'],
    ],
  );
});

test('a task without a fake fails the run, naming itself; a DAG file that does not validate is refused before any run', async () => {
  await assert.rejects(
    runDagTest(fiscal, { ds: '2024-05-06', tasks: { create_table: () => ({}), store: () => ({ rows: 1 }) } }),
    /task fiscal_day failed: task fiscal_day has no fake: give it in runDagTest's tasks/,
  );
  const dir = await tempDir('baton-testing-');
  const broken = path.join(dir, 'broken.ts');
  await writeFile(
    broken,
    "import { command, dag } from 'baton/sdk';\nexport default dag({ dagId: 'broken', schedule: '@daily', startDate: '2024-01-01' }, () => {\n  const a = command('a', { argv: ['x'] });\n  command('b', { argv: [`${a.tial}`] });\n});\n",
  );
  assert.throws(
    () => checkDagFile(broken),
    (err: unknown) => err instanceof DagFileError && /task b: Property 'tial' does not exist on type 'TaskOf<CommandOutput>'/.test(err.message),
  );
});
