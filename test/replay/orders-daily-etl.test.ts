/**
 * Replay: every saved history of orders_daily_etl (recorded from the real worker on the dev
 * server, see test/integration) must replay against today's workflow code, and a change made
 * without patched() must be caught as non-deterministic.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { workflowBundlerOptions, workflowsPath } from '../../src/worker';
import { repoRoot } from '../support';

const historiesDir = path.join(repoRoot, 'test', 'histories');
let histories: Array<{ workflowId: string; history: ReturnType<typeof historyFromJSON> }>;
const logger = new DefaultLogger('ERROR');

before(async () => {
  Runtime.install({ logger, telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  const files = (await readdir(historiesDir)).filter((f) => /^ordersDailyEtl-.+-v\d+\.json$/.test(f)).sort();
  histories = await Promise.all(
    files.map(async (file) => ({ workflowId: file, history: historyFromJSON(JSON.parse(await readFile(path.join(historiesDir, file), 'utf8'))) })),
  );
});

async function replayAll(bundle: WorkflowBundleWithSourceMap) {
  const results: Array<{ workflowId: string; error?: Error }> = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) results.push(result);
  return results;
}

test('the saved histories are there: the happy path and the empty branch, from before and after wait_for_file, and the db source', () => {
  // v2 runs had no wait_for_file: they replay through patched('orders-wait-for-file').
  assert.deepEqual(histories.map((h) => h.workflowId), [
    'ordersDailyEtl-db-v3.json', 'ordersDailyEtl-empty-v2.json', 'ordersDailyEtl-empty-v3.json', 'ordersDailyEtl-happy-v2.json', 'ordersDailyEtl-happy-v3.json',
  ]);
});

test('every saved history replays against the current workflow code', async () => {
  const bundle = await bundleWorkflowCode({ workflowsPath, ...workflowBundlerOptions, logger });
  const results = await replayAll(bundle);
  assert.deepEqual(results.map((r) => [r.workflowId, r.error?.message]), histories.map((h) => [h.workflowId, undefined]));
});

test('a task added without patched() is a DeterminismViolationError', async () => {
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./incompatible'), ...workflowBundlerOptions, logger });
  const results = await replayAll(bundle);
  assert.equal(results.length, 5);
  for (const result of results) {
    assert.ok(result.error instanceof DeterminismViolationError, `${result.workflowId}: ${String(result.error)}`);
  }
});
