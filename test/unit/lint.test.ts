import assert from '../support/assert';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot } from '../support';

/**
 * ESLint in one child process for the whole file, linting each text it is sent as the file it
 * names: its flat config is an ES module, which Jest's module system does not load, and one
 * ESLint start (the TypeScript parser loaded once) serves every case.
 */
const SERVER = `
import { ESLint } from 'eslint';
import { createInterface } from 'node:readline';
const eslint = new ESLint({ cwd: process.cwd() });
for await (const line of createInterface({ input: process.stdin })) {
  const { code, file } = JSON.parse(line);
  const [result] = await eslint.lintText(code, { filePath: file });
  process.stdout.write(JSON.stringify(result.messages.map((m) => m.ruleId + ': ' + m.message)) + '\\n');
}
`;
let server: ChildProcessWithoutNullStreams;
let answers: AsyncIterator<string>;
let stderr = '';

beforeAll(() => {
  server = spawn(process.execPath, ['--input-type=module', '-e', SERVER], { cwd: repoRoot });
  server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  answers = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
});

afterAll(() => {
  server.stdin.end();
});

/** ESLint's verdict on `code` as a file of workflows/ (or of `file`). */
async function lintWorkflow(code: string, file = path.join('workflows', 'example.ts')): Promise<string[]> {
  server.stdin.write(`${JSON.stringify({ code, file: path.join(repoRoot, file) })}\n`);
  const { value, done } = await answers.next();
  if (done) throw new Error(`eslint ended: ${stderr}`);
  return JSON.parse(value) as string[];
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
