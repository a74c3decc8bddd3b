/**
 * Replay: every history saved in test/histories/ (recorded from the real worker on the dev
 * server, see saveHistory in test/support) must replay against today's workflow code, and a change
 * made without patched() must be caught as non-deterministic. Histories are found by their name,
 * `<workflowType>-<scenario>-<version>.json`: one recorded for a new DAG is replayed without
 * editing this file.
 */
import assert from '../support/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WorkflowTypes } from '../../src/contracts';
import { loadDags } from '../../src/dag-files';
import { workflowBundlerOptions, workflowsEntry } from '../../src/worker';
import { HISTORIES_DIR } from '../support';

const NAME = /^(?<workflowType>[A-Za-z][A-Za-z0-9_]*)-(?<scenario>[a-z0-9][a-z0-9-]*)-v(?<version>\d+)\.json$/;
const files = readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const saved = files.map((file) => ({
  file,
  name: NAME.exec(file)?.groups,
  history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8'))),
}));
const logger = new DefaultLogger('ERROR');
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger, telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  bundle = await bundleWorkflowCode({ workflowsPath: workflowsEntry(), ...workflowBundlerOptions, logger });
});

async function replay(workflowBundle: WorkflowBundleWithSourceMap, histories: typeof saved) {
  const results: Array<{ workflowId: string; error?: Error }> = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle },
    histories.map((h) => ({ workflowId: h.file, history: h.history })),
  ))
    results.push(result);
  return results;
}

test('every file in test/histories is named <workflowType>-<scenario>-<version>.json after the workflow type its history ran', () => {
  // Baton's own workflow types and every DAG file's (workflows/dags/).
  const known = new Set<string>([...Object.values(WorkflowTypes), ...loadDags().map((d) => d.dag.workflowType)]);
  const wrong = saved.flatMap(({ file, name, history }) => {
    const ran = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    if (!name) return [`${file}: not <workflowType>-<scenario>-v<version>.json`];
    if (name.workflowType !== ran) return [`${file}: the history ran ${ran}`];
    return known.has(ran) ? [] : [`${file}: ${ran} is no workflow type of this worker`];
  });
  assert.deepEqual(wrong, []);
  // The reference pipelines' scenarios: both branches and both sources of orders_daily_etl, a cache miss and hit of orders-etl.
  for (const expected of [
    'ordersDailyEtl-happy-v5.json',
    'ordersDailyEtl-empty-v5.json',
    'ordersDailyEtl-db-v5.json',
    'ordersPipeline-miss-v3.json',
    'ordersPipeline-hit-v3.json',
  ]) {
    assert.ok(files.includes(expected), `${expected} is missing from test/histories`);
  }
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  const [result] = await replay(
    bundle,
    saved.filter((h) => h.file === file),
  );
  assert.equal(result.workflowId, file);
  assert.equal(result.error, undefined, `${file}: ${result.error?.stack ?? result.error}`);
});

test('a task added to orders_daily_etl without patched() is a DeterminismViolationError on every one of its histories', async () => {
  const incompatible = await bundleWorkflowCode({ workflowsPath: require.resolve('./incompatible'), ...workflowBundlerOptions, logger });
  const histories = saved.filter((h) => h.name?.workflowType === 'ordersDailyEtl');
  assert.ok(histories.length >= 3, `only ${histories.length} orders_daily_etl histories`);
  const results = await replay(incompatible, histories);
  assert.deepEqual(
    results.map((r) => r.workflowId),
    histories.map((h) => h.file),
  );
  for (const result of results) assert.ok(result.error instanceof DeterminismViolationError, `${result.workflowId}: ${String(result.error)}`);
});
