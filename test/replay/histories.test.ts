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
  // The reference pipelines' scenarios: both branches and both sources of orders_daily_etl, a cache miss and hit of orders-etl,
  // run by their DAG files on the engine (v4, v2) and by the hand-written workflows before them, which in-flight runs finish on.
  for (const expected of [
    'ordersDailyEtl-happy-v4.json',
    'ordersDailyEtl-empty-v4.json',
    'ordersDailyEtl-db-v4.json',
    'ordersPipeline-miss-v2.json',
    'ordersPipeline-hit-v2.json',
    'ordersDailyEtl-happy-v3.json',
    'ordersDailyEtl-empty-v3.json',
    'ordersDailyEtl-db-v3.json',
    'ordersPipeline-miss-v1.json',
    'ordersPipeline-hit-v1.json',
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
  const histories = saved.filter((h) => h.name?.workflowType === WorkflowTypes.ordersDailyEtl);
  assert.ok(histories.length >= 3, `only ${histories.length} orders_daily_etl histories`);
  const results = await replay(incompatible, histories);
  assert.deepEqual(
    results.map((r) => r.workflowId),
    histories.map((h) => h.file),
  );
  for (const result of results) assert.ok(result.error instanceof DeterminismViolationError, `${result.workflowId}: ${String(result.error)}`);
});

/** A run's result as its history's completion event holds it. */
function resultOf(file: string): Record<string, unknown> {
  const completed = saved.find((h) => h.file === file)!.history.events!.find((e) => e.workflowExecutionCompletedEventAttributes);
  const data = completed?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  assert.ok(data, `${file}: no result in its history`);
  return JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>;
}

/** What a result says about the data, leaving out times: counts, files, models and each task's end state. */
function dataOf(result: Record<string, unknown>): Record<string, unknown> {
  const {
    tasks,
    models,
    dagId: _dagId,
    ds: _ds,
    state: _state,
    ...rest
  } = result as { tasks: Array<{ taskId: string; state: string }>; models?: Array<{ model: string; status: string }> } & Record<string, unknown>;
  return {
    ...rest,
    ...(models ? { models: models.map((m) => `${m.model}:${m.status}`) } : {}),
    tasks: tasks.map((t) => `${t.taskId}:${t.state}`),
  };
}

test.each([
  ['ordersDailyEtl-happy-v3.json', 'ordersDailyEtl-happy-v4.json'],
  ['ordersDailyEtl-empty-v3.json', 'ordersDailyEtl-empty-v4.json'],
  ['ordersDailyEtl-db-v3.json', 'ordersDailyEtl-db-v4.json'],
  ['ordersPipeline-miss-v1.json', 'ordersPipeline-miss-v2.json'],
  ['ordersPipeline-hit-v1.json', 'ordersPipeline-hit-v2.json'],
])('the DAG file gives the result the hand-written workflow gave on the same input: %s and %s', (handWritten, dagFile) => {
  const [before, after] = [resultOf(handWritten), resultOf(dagFile)];
  // Each task of the old run ended as it did; a run from before the source branch had none of its tasks.
  const oldTasks = new Set((before.tasks as Array<{ taskId: string }>).map((t) => t.taskId));
  const added = (after.tasks as Array<{ taskId: string; state: string }>).filter((t) => !oldTasks.has(t.taskId));
  assert.ok(
    added.every((t) => ['choose_source:success', 'wait_for_data:skipped', 'extract_from_db:skipped'].includes(`${t.taskId}:${t.state}`)),
    JSON.stringify(added),
  );
  assert.deepEqual(dataOf({ ...after, tasks: (after.tasks as Array<{ taskId: string }>).filter((t) => oldTasks.has(t.taskId)) }), dataOf(before));
  // orders_daily_etl's result is as it was, key for key; orders-etl's gains the engine's dagId, ds and state.
  if (handWritten.startsWith('ordersDailyEtl')) assert.deepEqual([after.dagId, after.ds, after.state], [before.dagId, before.ds, before.state]);
  else assert.deepEqual([after.dagId, after.ds, after.state], ['orders-etl', before.startDate, 'success']);
});
