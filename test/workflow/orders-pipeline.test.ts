/**
 * The flow orders-etl on the time-skipping test server, with its real activities (DuckDB on a
 * temporary data directory, the cache in the test database): cache hit, miss on a changed file
 * with inputs+file, hit on a changed file with inputs, expiry an hour later, --refresh-cache,
 * a vanished cached file, a transient failure that recovers, and bad parameters.
 */
import assert from '../support/assert';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, test } from '@jest/globals';
import { Client } from '@temporalio/client';
import { createCacheActivities } from '../../activities/cache';
import type { UserTaskInput } from '../../src/operators/task/activity';
import { migrateWarehouse } from '../../activities/warehouse';
import { createSettingsActivities } from '../../activities/settings';
import type { OrdersPipelineResult } from '../../workflows/dags/orders-etl/contract';

/** What `baton run orders-etl` takes: the day, and the conf of the cache's policy and refresh. */
interface FlowInput {
  startDate: string;
  cachePolicy?: string;
  refreshCache?: boolean;
}
import { loadDags, loadUserActivities } from '../../src/dag-files';
import { workflowsEntry } from '../../src/worker';
import { quietLogger, tempDir, testConfig, testPool, workflowFailure, timeSkippingWorker } from '../support';

const pool = testPool();
let dataDir: string;
const taskQueue = 'orders-pipeline-tests';
/** Extract attempts that fail before the real one runs (a file briefly unreadable). */
let transientFailures = 0;
let extractCalls = 0;

const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: workflowsEntry(),
  activities: async () => {
    await migrateWarehouse(pool);
    dataDir = await tempDir();
    await mkdir(path.join(dataDir, 'raw'), { recursive: true });
    const config = testConfig({ dataDir });
    // The DAG file's own tasks, as the worker registers them (orders-etl.extractOrders, ...).
    const flowDag = loadDags().find((d) => d.dag.dagId === 'orders-etl')!;
    const own = loadUserActivities(flowDag, { pool, connection: () => pool, config, logger: quietLogger });
    return {
      ...createSettingsActivities({ config: { ...config, retry: {} } }),
      ...createCacheActivities({ pool, logger: quietLogger, config }),
      ...own,
      'orders-etl.extractOrders': async (input: UserTaskInput) => {
        extractCalls++;
        if (input.attempt <= transientFailures) throw new Error(`EBUSY: resource busy or locked, open '${(input.args as { startDate: string }).startDate}'`);
        return own['orders-etl.extractOrders'](input);
      },
    };
  },
});
afterAll(() => pool.end());

// Each run of this file processes dates of its own: the cache table outlives test runs.
const year = 2400 + Math.floor(Math.random() * 500);
let day = 0;
const nextDate = () => `${year}-01-${String(++day).padStart(2, '0')}`;
const HEADER = 'order_id,customer_id,order_date,amount,status';

async function writeCsv(startDate: string, rows: string[]): Promise<void> {
  await writeFile(path.join(dataDir, 'raw', `orders_${startDate}.csv`), [HEADER, ...rows, ''].join('\n'));
}

/**
 * Runs the flow. Waiting on server.env.client lets the test server skip time freely, and it may jump
 * years between two runs; cache expiry is about time between runs, so those tests wait on a
 * plain client, and time moves only at server.env.sleep.
 */
async function flow(input: FlowInput, { skipTime = false } = {}): Promise<OrdersPipelineResult> {
  const client = skipTime ? server.env.client : new Client({ connection: server.env.connection, namespace: server.env.namespace });
  const conf = { ...(input.cachePolicy ? { cache_policy: input.cachePolicy } : {}), ...(input.refreshCache ? { refresh_cache: true } : {}) };
  return (await client.workflow.execute('ordersPipeline', {
    taskQueue,
    workflowId: `orders-etl-${input.startDate}-${randomUUID().slice(0, 6)}`,
    args: [{ ds: input.startDate, conf }],
  })) as OrdersPipelineResult;
}

test('a run: rows in = kept + dropped + rejected, file references between tasks, a miss then a hit', async () => {
  const startDate = nextDate();
  await writeCsv(startDate, [
    `1,10,${startDate},12.50,shipped`,
    `,11,${startDate},3.00,pending`,
    `3,12,${startDate},twelve,pending`,
    `4,13,${startDate},7,delivered`,
  ]);
  extractCalls = 0;
  const first = await flow({ startDate });
  assert.deepEqual([first.rowsIn, first.kept, first.dropped, first.rejected], [4, 2, 1, 1]);
  assert.equal(first.output.path, `processed/orders_${startDate}.parquet`);
  assert.equal(first.output.rows, 2);
  assert.equal(first.cache.extract_data, 'miss');
  assert.deepEqual(
    first.tasks.map((t) => `${t.taskId}:${t.state}`),
    ['extract_data:success', 'transform_data:success', 'load_data:success'],
  );

  const second = await flow({ startDate });
  assert.equal(second.cache.extract_data, 'hit');
  assert.equal(extractCalls, 1, 'a hit does not run extract');
  assert.equal(second.output.sha256, first.output.sha256);
});

test('inputs+file: a changed file behind the same inputs is a miss; inputs (task_input_hash) serves the old result', async () => {
  const startDate = nextDate();
  await writeCsv(startDate, [`1,10,${startDate},1.00,a`]);
  assert.equal((await flow({ startDate, cachePolicy: 'inputs' })).cache.extract_data, 'miss');
  assert.equal((await flow({ startDate })).cache.extract_data, 'miss'); // another policy, another key
  await writeCsv(startDate, [`1,10,${startDate},1.00,a`, `2,10,${startDate},2.00,b`]);
  const byFile = await flow({ startDate });
  assert.deepEqual([byFile.cache.extract_data, byFile.kept], ['miss', 2]);
  const byInputs = await flow({ startDate, cachePolicy: 'inputs' });
  assert.deepEqual([byInputs.cache.extract_data, byInputs.kept], ['hit', 1], "Prefect's task_input_hash serves the stale result");
});

test('the cache expires after an hour of workflow time; --refresh-cache bypasses it; a vanished cached file is a miss', async () => {
  const startDate = nextDate();
  await writeCsv(startDate, [`1,10,${startDate},1.00,a`]);
  assert.equal((await flow({ startDate })).cache.extract_data, 'miss');
  await server.env.sleep('59m');
  assert.equal((await flow({ startDate })).cache.extract_data, 'hit');
  await server.env.sleep('2m');
  assert.equal((await flow({ startDate })).cache.extract_data, 'expired');
  assert.equal((await flow({ startDate })).cache.extract_data, 'hit');
  assert.equal((await flow({ startDate, refreshCache: true })).cache.extract_data, 'refresh');

  const cached = (await flow({ startDate })).cache.extract_data;
  assert.equal(cached, 'hit');
  await rm(path.join(dataDir, 'staging', 'orders-etl'), { recursive: true, force: true });
  const vanished = await flow({ startDate });
  assert.deepEqual([vanished.cache.extract_data, vanished.kept], ['vanished', 1]);
});

test('extract retries a transient failure (3 attempts in all) and recovers', async () => {
  const startDate = nextDate();
  await writeCsv(startDate, [`1,10,${startDate},1.00,a`]);
  transientFailures = 2;
  extractCalls = 0;
  try {
    const result = await flow({ startDate }, { skipTime: true }); // retries are 10 s apart
    assert.equal(result.kept, 1);
    assert.equal(extractCalls, 3);
  } finally {
    transientFailures = 0;
  }
});

test('a missing amount column fails at once, not retried, naming the column and the file', async () => {
  const startDate = nextDate();
  await writeFile(path.join(dataDir, 'raw', `orders_${startDate}.csv`), `order_id,customer_id,order_date,status\n1,10,${startDate},a\n`);
  extractCalls = 0;
  const err = await workflowFailure(flow({ startDate }));
  assert.match(err.message, new RegExp(`^task extract_data failed: .*orders_${startDate}\\.csv: missing column amount`));
  assert.equal(extractCalls, 1);
});

test('bad parameters fail before any task, naming the value', async () => {
  for (const [input, message] of [
    [{ startDate: '2024-02-30' }, /^orders-etl: ds "2024-02-30" is not a real calendar date$/],
    [{ startDate: '../../etc' }, /^orders-etl: ds "\.\.\/\.\.\/etc" is not a date in the form YYYY-MM-DD$/],
    [{ startDate: '2024-06-01', cachePolicy: 'forever' }, /^orders-etl: bad params, no task was run: params\.cache_policy: .* \(conf gave "forever"\)$/],
  ] as const) {
    extractCalls = 0;
    const err = await workflowFailure(flow(input as FlowInput));
    assert.match(err.message, message);
    assert.equal(extractCalls, 0);
  }
});
