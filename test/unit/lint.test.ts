import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../support';

/**
 * ESLint's verdict on `code` as a file of workflows/ (or of `file`). The CLI in a child process:
 * its flat config is an ES module, which Jest's module system does not load.
 */
async function lintWorkflow(code: string, file = path.join('workflows', 'example.ts')): Promise<string[]> {
  const eslint = path.join(repoRoot, 'node_modules', '.bin', 'eslint');
  const { stdout, stderr, status } = spawnSync(eslint, ['--format', 'json', '--stdin', '--stdin-filename', path.join(repoRoot, file)], {
    cwd: repoRoot,
    input: code,
    encoding: 'utf8',
  });
  if (status !== 0 && status !== 1) throw new Error(`eslint exited ${status}: ${stderr}`);
  const [result] = JSON.parse(stdout) as Array<{ messages: Array<{ ruleId: string; message: string }> }>;
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('ESLint keeps non-deterministic imports out of workflows/', async () => {
  for (const source of [
    "import { readFile } from 'node:fs/promises';",
    "import fs from 'fs';",
    "import { Pool } from 'pg';",
    "import pino from 'pino';",
    "import { createActivities } from '../activities';",
    "import { loadConfig } from '../src/config';",
    "import { triggerRun } from '../src/runs';",
    "import { startPlatform } from '../src/platform';",
    "import { run } from '../src/platform/processes';",
  ]) {
    const messages = await lintWorkflow(`${source}\nexport const x = [${source.match(/import \{? ?(\w+)/)?.[1]}];\n`);
    assert.equal(messages.filter((m) => m.startsWith('no-restricted-imports')).length, 1, `${source} -> ${messages.join(' | ')}`);
  }
});

test('workflows may import activity types and pure modules', async () => {
  const messages = await lintWorkflow(
    "import type { Activities } from '../activities';\nimport { parseDs } from '../src/logical-date';\nimport { TASK_QUEUE } from '../src/contracts';\nimport type { Config } from '../src/config';\nexport type A = Activities;\nexport type C = Config;\nexport const p = [parseDs, TASK_QUEUE];\n",
  );
  assert.deepEqual(messages, []);
});

test('the pure modules of src/ that workflows import are held to the same rule', async () => {
  const messages = await lintWorkflow("import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", path.join('src', 'timetable.ts'));
  assert.deepEqual(messages, [
    "no-restricted-imports: 'node:fs' import is restricted from being used. workflows are deterministic: no Node built-ins; do I/O in an activity",
  ]);
});

test("an operator's definition and step are held to the workflows' rule, its activity is not", async () => {
  const step = path.join('src', 'operators', 'sql', 'step.ts');
  assert.deepEqual(await lintWorkflow("import type { SqlOperatorInput } from './activity';\nexport type I = SqlOperatorInput;\n", step), []);
  assert.deepEqual(await lintWorkflow("import { createSqlOperator } from './activity';\nexport const c = createSqlOperator;\n", step), [
    `no-restricted-imports: './activity' import is restricted from being used by a pattern. import activities as types only: import type { Activities } from "../activities"`,
  ]);
  assert.deepEqual(await lintWorkflow("import { Pool } from 'pg';\nexport const p = Pool;\n", path.join('src', 'operators', 'sql', 'definition.ts')), [
    "no-restricted-imports: 'pg' import is restricted from being used. workflows do no I/O: query Postgres from an activity",
  ]);
  assert.deepEqual(await lintWorkflow("import { Pool } from 'pg';\nexport const p = Pool;\n", path.join('src', 'operators', 'sql', 'activity.ts')), []);
  // The engine runs the steps; the activities it reaches as types only.
  assert.deepEqual(await lintWorkflow("import { OPERATOR_STEPS } from '../src/operators/steps';\nexport const s = OPERATOR_STEPS;\n"), []);
  assert.equal(
    (await lintWorkflow("import { createOperatorActivities } from '../src/operators/activities';\nexport const c = createOperatorActivities;\n")).length,
    1,
  );
});
