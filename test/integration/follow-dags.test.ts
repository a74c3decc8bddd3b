/**
 * A development worker following its DAGs folder, in process: a DAG file added is served (its
 * workflow type announced) within seconds, a second one too, a broken one is logged with its
 * problem and left out while the others stay served, and a stop takes the announcement back.
 */
import assert from '../support/assert';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, test } from '@jest/globals';
import pino from 'pino';
import { servedWorkflowTypes } from '../../src/dag-servers';
import { runWorker } from '../../src/worker';
import { tempDir, testConfig, testPool } from '../support';

const pool = testPool();
afterAll(() => pool.end());

const dagFile = (dagId: string, tail = `${'${'}a.tail}`) => `import { command, dag } from 'baton/sdk';
export default dag({ dagId: '${dagId}', schedule: '@daily', startDate: '2024-01-01' }, () => {
  const a = command('a', { argv: ['echo', '${dagId}'] });
  return { said: \`${tail}\` };
});
`;

async function served(namespace: string, queue: string, want: string[], seconds = 90): Promise<string[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const now = [...(await servedWorkflowTypes(pool, namespace, queue))].sort();
    if (JSON.stringify(now) === JSON.stringify(want)) return now;
    if (Date.now() > deadline) throw new Error(`served ${JSON.stringify(now)}, not ${JSON.stringify(want)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('the worker serves each DAG file added once it validates, names a broken one, and withdraws when stopped', async () => {
  const dir = await tempDir('baton-follow-');
  const dagsDir = path.join(dir, 'dags');
  await mkdir(dagsDir);
  await writeFile(path.join(dagsDir, 'follow_a.ts'), dagFile('follow_a'));
  const taskQueue = `follow-${process.pid}`;
  const base = testConfig();
  const config = { ...base, project: { dir, dagsDir, taskQueue }, watchDags: true, metrics: undefined };
  let log = '';
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => ((log += String(chunk)), done()) }));
  const stop = new AbortController();
  const running = runWorker(config, logger, { signal: stop.signal });
  try {
    await served(base.temporal.namespace, taskQueue, ['follow_a']);
    await writeFile(path.join(dagsDir, 'follow_b.ts'), dagFile('follow_b'));
    await served(base.temporal.namespace, taskQueue, ['follow_a', 'follow_b']);
    await writeFile(path.join(dagsDir, 'follow_c.ts'), dagFile('follow_c', `${'${'}a.tial}`));
    const deadline = Date.now() + 60_000;
    while (!log.includes('a DAG file does not validate; the others are served')) {
      if (Date.now() > deadline) throw new Error(`no problem logged:\n${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.match(log, /follow_c\.ts \(DAG \\"follow_c\\"\): Property 'tial' does not exist on type 'TaskOf<CommandOutput>'/);
    assert.deepEqual([...(await servedWorkflowTypes(pool, base.temporal.namespace, taskQueue))].sort(), ['follow_a', 'follow_b']);
  } finally {
    stop.abort();
    await running;
  }
  assert.deepEqual([...(await servedWorkflowTypes(pool, base.temporal.namespace, taskQueue))], []);
});
