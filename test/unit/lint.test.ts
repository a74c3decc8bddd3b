import assert from '../support/assert';
import path from 'node:path';
import { test } from '@jest/globals';
import { ESLint } from 'eslint';
import { repoRoot } from '../support';

async function lintWorkflow(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, 'workflows', 'example.ts') });
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
  ]) {
    const messages = await lintWorkflow(`${source}\nexport const x = [${source.match(/import \{? ?(\w+)/)?.[1]}];\n`);
    assert.equal(messages.filter((m) => m.startsWith('no-restricted-imports')).length, 1, `${source} -> ${messages.join(' | ')}`);
  }
});

test('workflows may import activity types and pure modules', async () => {
  const messages = await lintWorkflow(
    "import type { Activities } from '../activities';\nimport { parseDs } from '../src/logical-date';\nexport type A = Activities;\nexport const p = parseDs;\n",
  );
  assert.deepEqual(messages, []);
});
