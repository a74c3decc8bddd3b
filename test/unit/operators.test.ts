/**
 * The operators' activities (src/operators/<name>/activity.ts) in MockActivityEnvironment, for real: the
 * command operator runs processes (no shell, its own environment, its process group killed on
 * cancel), the http operator calls a loopback server, the sql operator runs on the test database.
 */
import assert from '../support/assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { createConnections } from '../../src/data/connections';
import { createCommandOperator } from '../../src/operators/command/activity';
import { dataPaths } from '../../src/operators/duckdb/activity';
import { createHttpOperator, MAX_RESPONSE_BYTES } from '../../src/operators/http/activity';
import { loadTables, postgresType } from '../../src/operators/load-csv/activity';
import { createSqlOperator } from '../../src/operators/sql/activity';
import { createTriggerDagOperator } from '../../src/operators/trigger-dag/activity';
import { createWaitForDagOperator } from '../../src/operators/wait-for-dag/activity';
import { waitedLogicalDate, waitedRunId } from '../../src/operators/wait-for-dag/run';
import type { DagDefinition } from '../../src/dags';
import { mockActivityEnv, nonRetryable, runActivity, tempDir, testConfig, testPool } from '../support';

const base = { dagId: 'ops', taskId: 't', ds: '2024-03-01', attempt: 1 };
const operatorCommand = createCommandOperator();
const pool = testPool(testConfig());
let server: Server;
let url = '';
const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];

beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
    const route = req.url ?? '';
    if (route.startsWith('/api/rates/')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ds: route.split('/').pop(), eur: 1.08 }));
    } else if (route === '/api/down') res.writeHead(503).end('maintenance');
    else if (route === '/api/badjson') res.writeHead(200, { 'content-type': 'application/json' }).end('{"half":');
    else if (route === '/api/text') res.writeHead(201, { 'content-type': 'text/plain' }).end('created');
    else if (route === '/api/huge') res.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.alloc(MAX_RESPONSE_BYTES + 1, 97));
    else res.writeHead(404).end('no such thing');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://user:p%40ss@127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await pool.end();
});

test('command runs an argument array without a shell, in an environment of its own, and keeps the tail of its output', async () => {
  const result = await runActivity(operatorCommand, {
    ...base,
    argv: ['node', '-e', 'console.log("$HOME; rm -rf /"); console.log(process.env.GREETING, process.env.BATON_DS, process.env.DATABASE_URL ?? "no secrets")'],
    env: { GREETING: 'hello' },
  });
  assert.deepEqual(result, { exitCode: 0, tail: '$HOME; rm -rf /\nhello 2024-03-01 no secrets' });
  const long = await runActivity(operatorCommand, { ...base, argv: ['node', '-e', 'for (let i = 0; i < 1000; i++) console.log("line " + i)'], env: {} });
  assert.ok(long.tail.startsWith('line ') && long.tail.endsWith('line 999') && long.tail.length <= 2048, long.tail.slice(0, 40));
  assert.deepEqual(await runActivity(operatorCommand, { ...base, argv: ['node', '-e', 'process.exit(99)'], env: {} }), {
    exitCode: 99,
    tail: '',
    skipped: 'exit code 99',
  });
});

test('a failing command is retryable and says how it ended; a missing program or a folder outside the project fails at once', async () => {
  await assert.rejects(runActivity(operatorCommand, { ...base, argv: ['node', '-e', 'console.error("boom"); process.exit(3)'], env: {} }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure && !err.nonRetryable);
    assert.equal(err.message, 'command node exited with 3: boom');
    return true;
  });
  await nonRetryable(
    runActivity(operatorCommand, { ...base, argv: ['no-such-program-here'], env: {} }),
    'CommandNotFound',
    'command: no-such-program-here: no such program (argv[0] is run directly, not through a shell)',
  );
  await nonRetryable(
    runActivity(operatorCommand, { ...base, argv: ['ls'], env: {}, cwd: '../..' }),
    'PathOutsideProject',
    'command: working folder ../.. leaves the project',
  );
});

/** Whether a process runs (a zombie waiting for its reaper does not). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

test('cancelling a command kills its whole process group', async () => {
  const dir = await tempDir();
  const marker = path.join(dir, 'child.pid');
  const env = mockActivityEnv();
  const running = env.run(operatorCommand, {
    ...base,
    argv: [
      'node',
      '-e',
      `const c = require("child_process").spawn("sleep", ["60"]); require("fs").writeFileSync(${JSON.stringify(marker)}, String(c.pid)); setInterval(() => {}, 1000);`,
    ],
    env: {},
  });
  let childPid = 0;
  for (let i = 0; i < 100 && !childPid; i++) {
    await new Promise((r) => setTimeout(r, 50));
    childPid = Number(await readFile(marker, 'utf8').catch(() => '0'));
  }
  assert.ok(childPid > 0, 'the command started its child');
  env.cancel();
  await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await alive(childPid), false, 'the grandchild is gone too');
});

test('http calls the connection with its credentials as basic auth, sends JSON and keeps a small JSON answer', async () => {
  const operatorHttp = createHttpOperator({ rates: url });
  const result = await runActivity(operatorHttp, {
    ...base,
    conn: 'rates',
    method: 'POST',
    path: '/rates/2024-03-01',
    json: { ds: '2024-03-01' },
    expectStatus: [],
  });
  assert.deepEqual(result, { status: 200, bytes: 30, json: { ds: '2024-03-01', eur: 1.08 } });
  assert.deepEqual(seen.at(-1), {
    method: 'POST',
    url: '/api/rates/2024-03-01',
    auth: `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    body: '{"ds":"2024-03-01"}',
  });
});

test('http: 5xx is retried, another status fails at once, a path cannot leave the connection, a huge answer is refused', async () => {
  const operatorHttp = createHttpOperator({ rates: url });
  const call = (p: string, expectStatus: number[] = []) => runActivity(operatorHttp, { ...base, conn: 'rates', method: 'GET', path: p, expectStatus });
  await assert.rejects(call('/down'), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure && !err.nonRetryable && err.type === 'HttpServerError');
    assert.match(err.message, /^http: GET http:\/\/127\.0\.0\.1:\d+\/api\/down answered 503: maintenance$/);
    assert.doesNotMatch(err.message, /p%40ss|user:/);
    return true;
  });
  await nonRetryable(call('/missing'), 'HttpUnexpectedStatus', /answered 404: no such thing$/);
  await nonRetryable(call('/badjson'), 'HttpBadJson', /^http: GET .*\/api\/badjson said its 8-byte answer is JSON, and it is not$/);
  assert.deepEqual(await call('/text'), { status: 201, bytes: 7 });
  assert.deepEqual(await call('/missing', [404]), { status: 404, bytes: 13 });
  await nonRetryable(call('/../secret'), 'PathOutsideConnection', "http: path /../secret leaves connection rates's URL");
  await nonRetryable(call('/huge'), 'ResponseTooLarge', `http: the response is over ${MAX_RESPONSE_BYTES} bytes; return a reference instead`);
  await nonRetryable(
    runActivity(operatorHttp, { ...base, conn: 'nope', method: 'GET', path: '/', expectStatus: [] }),
    'UnknownConnection',
    'unknown connection "nope": set BATON_CONN_NOPE to its URL',
  );
});

test('sql binds its parameters and gives the row count or the first row; a file of the DAG folder is read and templated there', async () => {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'sql'));
  await writeFile(
    path.join(dir, 'sql', 'day.sql'),
    'SELECT {{ ds }}::date + 1 AS next_day, {{ params.n }}::int * 2 AS twice, \'x\' AS "{{ not_a_placeholder_in_a_name }}"',
  );
  await writeFile(path.join(dir, 'sql', 'plain.sql'), 'SELECT {{ ds }}::date AS ds');
  const operatorSql = createSqlOperator(createConnections(pool, {}), new Map([['ops', dir]]));
  const statement = { text: 'SELECT g FROM generate_series(1, $1::int) g', values: [7] };
  assert.deepEqual(await runActivity(operatorSql, { ...base, conn: 'warehouse', output: 'rowCount', statement }), { rows: 7 });
  assert.deepEqual(await runActivity(operatorSql, { ...base, conn: 'warehouse', output: 'firstRow', statement }), { g: 1 });
  assert.deepEqual(await runActivity(operatorSql, { ...base, conn: 'warehouse', output: 'none', statement }), {});
  const templates = {
    ds: '2024-03-01',
    ds_nodash: '20240301',
    ts: '2024-03-01T00:00:00+00:00',
    ts_nodash: '20240301T000000',
    data_interval_start: '',
    data_interval_end: '',
    params: { n: 21 },
    conf: {},
    xcom: {},
  };
  assert.deepEqual(await runActivity(operatorSql, { ...base, conn: 'warehouse', output: 'firstRow', file: 'sql/plain.sql', templates }), {
    ds: '2024-03-01',
  });
  await nonRetryable(
    runActivity(operatorSql, { ...base, conn: 'warehouse', output: 'firstRow', file: 'sql/day.sql', templates }),
    'TemplateError',
    /^t: sql\/day\.sql: \{\{ not_a_placeholder_in_a_name \}\}: unknown name$/,
  );
  await nonRetryable(
    runActivity(operatorSql, { ...base, conn: 'warehouse', output: 'none', file: '../../etc/passwd', templates }),
    'PathOutsideDag',
    "ops: ../../etc/passwd leaves the DAG's folder",
  );
  await nonRetryable(
    runActivity(operatorSql, { ...base, conn: 'warehouse', output: 'none', statement: { text: 'SELECT * FROM no_such_table', values: [] } }),
    'SqlError',
    't on warehouse: relation "no_such_table" does not exist',
  );
});

test('duckdb: quoted relative data files become paths under the data directory, other strings stay as they are', () => {
  assert.equal(
    dataPaths("SELECT * FROM read_csv('raw/p_2024-05-06.csv') WHERE s = 'a.b' UNION ALL SELECT * FROM 'out/*.parquet'", '/data'),
    "SELECT * FROM read_csv('/data/raw/p_2024-05-06.csv') WHERE s = 'a.b' UNION ALL SELECT * FROM '/data/out/*.parquet'",
  );
  assert.throws(() => dataPaths("SELECT * FROM '../etc/x.csv'", '/data'), /path \.\.\/etc\/x\.csv leaves the data directory/);
});

test('loadCsv: contract types as Postgres types; a target that is not schema.table is refused before any SQL', () => {
  assert.deepEqual(['text', 'integer', 'decimal(12,2)', 'date', 'timestamptz', 'boolean'].map(postgresType), [
    'text',
    'bigint',
    'numeric(12,2)',
    'date',
    'timestamptz',
    'boolean',
  ]);
  const t = loadTables('examples.customers');
  assert.deepEqual([t.target, t.rejects, t.schema], ['examples.customers', 'examples.customers_rejected', 'examples']);
  assert.match(t.stage, /^staging\.load_[0-9a-f]{32}$/);
  assert.notEqual(loadTables('examples.customers').stage, t.stage, 'each try stages into tables of its own');
  for (const bad of ['customers', 'a.b; DROP TABLE x', `s.${'t'.repeat(55)}`]) assert.throws(() => loadTables(bad), /is not schema\.table/);
});

test('triggerDag refuses, before starting anything, a DAG this worker does not serve, a bad date and its own run', async () => {
  // A client that must not be reached: every refusal comes first.
  const client = new Proxy({}, { get: () => assert.fail('the client was used') }) as never;
  const dags = new Map([['daily', { dagId: 'daily', workflowType: 'daily', schedule: '@daily', timezone: 'UTC', timetable: 'interval' } as DagDefinition]]);
  const trigger = createTriggerDagOperator(client, dags, { webUiUrl: 'http://localhost:8233', temporal: { namespace: 'default' } as never });
  const base = { dagId: 'daily', taskId: 'again', ds: '2024-05-06', attempt: 1, conf: {}, wait: true };
  await nonRetryable(trigger({ ...base, dag: 'weekly', runDs: '2024-05-06' }), 'UnknownDag', 'again: no DAG "weekly" on this worker; it serves daily');
  await nonRetryable(trigger({ ...base, dag: 'daily', runDs: '2024-02-30' }), 'InvalidLogicalDate', 'again: ds "2024-02-30" is not a real calendar date');
  await nonRetryable(
    trigger({ ...base, dag: 'daily', runDs: '2024-05-06' }),
    'TriggersItself',
    'again: a run of daily cannot trigger its own date (2024-05-06); give another ds',
  );
});

test('waitForDag refuses, before reading any run, a DAG this worker does not serve, a bad date and its own run', async () => {
  // A client that must not be reached: every refusal comes first.
  const client = new Proxy({}, { get: () => assert.fail('the client was used') }) as never;
  const dags = new Map([['daily', { dagId: 'daily', workflowType: 'daily', schedule: '@daily', timezone: 'UTC', timetable: 'interval' } as DagDefinition]]);
  const wait = createWaitForDagOperator(client, dags);
  const base = { dagId: 'daily', taskId: 'yesterday', ds: '2024-05-06', attempt: 1 };
  await nonRetryable(wait({ ...base, dag: 'weekly', runDs: '2024-05-05' }), 'UnknownDag', 'yesterday: no DAG "weekly" on this worker; it serves daily');
  await nonRetryable(wait({ ...base, dag: 'daily', runDs: '2024-02-30' }), 'InvalidLogicalDate', 'yesterday: ds "2024-02-30" is not a real calendar date');
  await nonRetryable(
    wait({ ...base, dag: 'daily', runDs: '05/05/2024' }),
    'InvalidLogicalDate',
    'yesterday: ds "05/05/2024" is not a logical date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS+00:00)',
  );
  await nonRetryable(
    wait({ ...base, dag: 'daily', runDs: '2024-05-06', task: 'load' }),
    'WaitsForItself',
    'yesterday: a run of daily cannot wait for its own run (2024-05-06); give another ds or a shift, or make the task upstream',
  );
});

test("waitForDag's run: ds (a date, or a sub-daily run's time) shifted, named by the run's workflow id; a date moves by whole days", () => {
  assert.equal(waitedLogicalDate('2024-03-01', { days: -1 }), '2024-02-29');
  assert.equal(waitedLogicalDate('2024-03-04', { days: 6 }), '2024-03-10');
  assert.equal(waitedLogicalDate('2024-03-04', { days: -2, hours: 24 }), '2024-03-03');
  assert.equal(waitedLogicalDate('2024-03-04'), '2024-03-04');
  assert.equal(waitedLogicalDate('2024-01-15T13:00:00+00:00', { hours: -14 }), '2024-01-14T23:00:00+00:00');
  assert.equal(waitedLogicalDate('2024-01-15T13:00:00+00:00', { days: 1 }), '2024-01-16T13:00:00+00:00');
  assert.throws(
    () => waitedLogicalDate('2024-03-04', { hours: -6 }),
    /^InvalidLogicalDate: shift \{"hours":-6\} moves the date 2024-03-04 off its day: a date moves by whole days \(24 hours\)$/,
  );
  assert.throws(() => waitedLogicalDate('2024-01-15T25:00:00+00:00'), /^InvalidLogicalDate: ds "2024-01-15T25:00:00\+00:00" is not a real time of day$/);
  // Any offset names the instant; the run's key is written as Airflow writes ts.
  assert.equal(waitedLogicalDate('2024-01-15T14:00:00+01:00'), '2024-01-15T13:00:00+00:00');
  assert.throws(() => waitedLogicalDate('2024-01-15T13:00'), /ds "2024-01-15T13:00" has no offset/);
  assert.throws(() => waitedLogicalDate('../2024-01-15'), /is not a logical date \(YYYY-MM-DD\) or time/);
  assert.equal(waitedRunId('daily', '2024-02-29'), 'daily-2024-02-29');
});
