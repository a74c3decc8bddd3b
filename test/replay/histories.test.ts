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
type SavedHistory = { workflowId: string; history: ReturnType<typeof historyFromJSON> };
/** orders_daily_etl's histories. */
let histories: SavedHistory[];
/** The flow orders-etl's histories. */
let flowHistories: SavedHistory[];
const logger = new DefaultLogger('ERROR');

async function loadHistories(workflowType: string): Promise<SavedHistory[]> {
  const pattern = new RegExp(`^${workflowType}-.+-v\\d+\\.json$`);
  const files = (await readdir(historiesDir)).filter((f) => pattern.test(f)).sort();
  return Promise.all(files.map(async (file) => ({ workflowId: file, history: historyFromJSON(JSON.parse(await readFile(path.join(historiesDir, file), 'utf8'))) })));
}

before(async () => {
  Runtime.install({ logger, telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  histories = await loadHistories('ordersDailyEtl');
  flowHistories = await loadHistories('ordersPipeline');
});

async function replayAll(bundle: WorkflowBundleWithSourceMap, saved: SavedHistory[] = histories) {
  const results: Array<{ workflowId: string; error?: Error }> = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, saved)) results.push(result);
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
  const all = [...histories, ...flowHistories];
  const results = await replayAll(bundle, all);
  assert.deepEqual(results.map((r) => [r.workflowId, r.error?.message]), all.map((h) => [h.workflowId, undefined]));
});

test("the flow orders-etl's saved histories are there: a cache miss and a cache hit", () => {
  assert.deepEqual(flowHistories.map((h) => h.workflowId), ['ordersPipeline-hit-v1.json', 'ordersPipeline-miss-v1.json']);
});

test('a task added without patched() is a DeterminismViolationError', async () => {
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./incompatible'), ...workflowBundlerOptions, logger });
  const results = await replayAll(bundle);
  assert.equal(results.length, 5);
  for (const result of results) {
    assert.ok(result.error instanceof DeterminismViolationError, `${result.workflowId}: ${String(result.error)}`);
  }
});
