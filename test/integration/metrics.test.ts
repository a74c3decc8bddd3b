/**
 * The worker's Prometheus endpoint: Temporal's runtime metrics and Baton's own on one port,
 * scraped after a real orders_daily_etl run on the real worker process.
 */
import assert from '../support/assert';
import path from 'node:path';
import { beforeAll, test } from '@jest/globals';
import type { OrdersDailyEtlResult } from '../../workflows/dags/orders_daily_etl/contract';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { triggerRun, waitForRun } from '../../src/runs';
import { generateOrders, type SeedSummary } from '../../scripts/sample-orders';
import { freePort, startWorkerProcess, type RunningWorker, integrationPlatform } from '../support';

const platform = integrationPlatform({ worker: false });
const { config } = platform;
// This file owns the logical date 2032-05-01 in the test namespace and database.
const ds = '2032-05-01';
let port: number;
let worker: RunningWorker;
let seed: SeedSummary;
let result: OrdersDailyEtlResult;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (label values here hold no quotes or commas). */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line) ?? [];
      assert.ok(name, `unparseable metrics line: ${line}`);
      return { name, labels: Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v])), value: Number(value) };
    });
}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  return parseExposition(await response.text());
}

/** The sum of a metric's samples whose labels include `labels`; undefined when there are none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matching.length ? matching.reduce((sum, s) => sum + s.value, 0) : undefined;
}

beforeAll(async () => {
  port = await freePort();
  worker = await platform.startWorker({ ...process.env, BATON_METRICS_PORT: String(port) });
  seed = await generateOrders({ ds, rows: 500, badRate: 0.02, seed: 320501, file: path.join(config.dataDir, 'raw', `orders_${ds}.csv`) });
  result = await waitForRun(platform.client, await triggerRun(platform.client, config, ordersDailyEtlDag, ds));
});

test('the worker logs where it serves metrics', () => {
  assert.match(worker.output(), new RegExp(`"metrics":"http://127\\.0\\.0\\.1:${port}/metrics".*"msg":"worker ready"`));
});

test('rows loaded and rejected are counted per DAG, equal to the run', async () => {
  assert.equal(seed.badRows, 10);
  assert.equal(result.state, 'success');
  assert.deepEqual([result.loadedRows, result.rejectedRows], [seed.expectedLoaded, seed.expectedRejected]);
  const samples = await scrape();
  const dag = { dag_id: 'orders_daily_etl' };
  assert.equal(valueOf(samples, 'baton_rows_loaded', dag), seed.expectedLoaded);
  assert.equal(valueOf(samples, 'baton_rows_rejected', dag), seed.expectedRejected);
  // The activity's meter adds these; ds appears in no label.
  assert.deepEqual(samples.find((s) => s.name === 'baton_rows_loaded')?.labels, {
    activityType: 'orders_daily_etl.load',
    dag_id: 'orders_daily_etl',
    namespace: config.temporal.namespace,
    taskQueue: 'etl',
  });
});

test("Temporal's runtime metrics share the endpoint, with the temporal_ prefix", async () => {
  const samples = await scrape();
  assert.equal(
    valueOf(samples, 'temporal_workflow_completed', { namespace: config.temporal.namespace, task_queue: 'etl', workflow_type: 'ordersDailyEtl' }),
    1,
  );
  assert.ok((valueOf(samples, 'temporal_activity_execution_latency_count', { activity_type: 'orders_daily_etl.load' }) ?? 0) >= 1);
});

test('runs by state and task durations by end state, per DAG', async () => {
  const samples = await scrape();
  assert.equal(valueOf(samples, 'baton_dag_runs', { dag_id: 'orders_daily_etl', state: 'success' }), 1);
  assert.equal(valueOf(samples, 'baton_dag_runs', { dag_id: 'orders_daily_etl', state: 'failed' }), undefined);
  // Every task that ran has one duration, labelled with how it ended; a task that never ran (a
  // branch not taken) has none. The sum is the run's own durationMs for the task.
  for (const task of result.tasks) {
    const labels = { dag_id: 'orders_daily_etl', task_id: task.taskId };
    if (task.durationMs === undefined) {
      assert.equal(valueOf(samples, 'baton_task_duration_seconds_count', labels), undefined, task.taskId);
      continue;
    }
    assert.equal(valueOf(samples, 'baton_task_duration_seconds_count', { ...labels, state: task.state }), 1, task.taskId);
    assert.equal(valueOf(samples, 'baton_task_duration_seconds_sum', labels), task.durationMs / 1000, task.taskId);
  }
  assert.deepEqual(
    result.tasks.filter((t) => t.durationMs !== undefined && t.state !== 'success'),
    [],
  );
});

test('a second worker on the same metrics port fails at start, naming the port', async () => {
  await assert.rejects(startWorkerProcess({ ...process.env, BATON_METRICS_PORT: String(port) }), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: .*Address already in use.*; set BATON_METRICS_PORT to a free port, or off`),
    );
    return true;
  });
});
