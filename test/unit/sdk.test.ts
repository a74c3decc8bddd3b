/**
 * The DAG SDK (src/sdk/): templates and their macros, SQL placeholders as bound parameters, and
 * compileDag naming every problem of a DAG file (cycles, unknown upstream tasks, bad operator
 * settings, templates that read what the task cannot see) with Airflow's defaults filled in.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import {
  command,
  dag,
  dbt,
  duckdb,
  empty,
  http,
  loadCsv,
  ownTasks,
  sql,
  sqlSensor,
  waitForDag,
  z,
  type DagScope,
  type DagSettings,
  type TaskOf,
} from '../../src/sdk';
import type { OperatorName, TaskOfOperator } from '../../src/operators/definitions';
import { compileDag, InvalidDagFile } from '../../src/sdk/compile';
import type { DagFileDefinition } from '../../src/sdk/types';
import { parameterize, render, renderDeep, renderSqlText, templateProblems, type TemplateContext } from '../../src/sdk/templates';

const context: TemplateContext = {
  ds: '2024-03-01',
  ds_nodash: '20240301',
  ts: '2024-03-01T00:00:00+00:00',
  ts_nodash: '20240301T000000',
  data_interval_start: '2024-03-01T00:00:00.000Z',
  data_interval_end: '2024-03-02T00:00:00.000Z',
  params: { region: 'eu', limit: 5 },
  conf: { full: true },
  xcom: { extract: { rows: 42, path: 'staging/x.parquet' } },
};

test('templates render names, upstream outputs and the ds macros', () => {
  assert.equal(render('raw/orders_{{ ds }}.csv', context), 'raw/orders_2024-03-01.csv');
  assert.equal(render('{{ds_nodash}}-{{ params.region }}-{{ conf.full }}-{{ xcom.extract.rows }}', context), '20240301-eu-true-42');
  assert.equal(render('{{ macros.ds_add(ds, -1) }} {{ ds_add(ds, 30) }}', context), '2024-02-29 2024-03-31');
  assert.equal(
    render("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%y') }} {{ macros.ds_format('01.02.2024', \"%d.%m.%Y\", '%Y%m%d') }}", context),
    '01/03/24 20240201',
  );
  assert.deepEqual(renderDeep({ file: '{{ xcom.extract.path }}', n: 3, list: ['{{ ds }}'] }, context), {
    file: 'staging/x.parquet',
    n: 3,
    list: ['2024-03-01'],
  });
  assert.throws(() => render('{{ xcom.extract.bytes }}', context), /\{\{ xcom\.extract\.bytes \}\}: xcom\.extract has no bytes/);
  assert.throws(() => render('{{ ds }', context), /malformed placeholder/);
  assert.throws(() => render("{{ macros.ds_add(ds, '1') }}", context), /days must be an integer, got "1"/);
  assert.throws(() => render("{{ macros.ds_format(ds, '%Y/%m/%d', '%Y') }}", context), /"2024-03-01" does not match the format "%Y\/%m\/%d"/);
  assert.throws(() => render('{{ process.env.HOME() }}', context), /\{\{ process.env.HOME\(\) \}\} is not a name .* or a macro call/);
});

test('SQL placeholders are bound parameters, quoted or not: a value never becomes SQL', () => {
  const { text, values } = parameterize("SELECT count(*) FROM t WHERE ds = '{{ ds }}' AND region = {{ params.region }} AND n > {{ xcom.extract.rows }}", {
    ...context,
    params: { region: "eu'; DROP TABLE t; --" },
  });
  assert.equal(text, 'SELECT count(*) FROM t WHERE ds = $1 AND region = $2 AND n > $3');
  assert.deepEqual(values, ['2024-03-01', "eu'; DROP TABLE t; --", 42]);
});

test('a template is checked against what its task can see before anything runs', () => {
  const scope = { params: ['region'], upstream: ['extract'] };
  assert.deepEqual(templateProblems('{{ ds }} {{ params.region }} {{ conf.anything }} {{ xcom.extract.rows }}', scope), []);
  assert.deepEqual(templateProblems('{{ dss }}', scope), [
    'unknown placeholder {{ dss }}; known: ds, ds_nodash, data_interval_start, data_interval_end, params.<name>, conf.<key>, xcom.<task>.<key>, macros.ds_add, macros.ds_format',
  ]);
  assert.deepEqual(templateProblems('{{ params.country }}', scope), ['{{ params.country }}: the DAG declares no param country (it has region)']);
  assert.deepEqual(templateProblems('{{ xcom.load.rows }}', scope), [
    '{{ xcom.load.rows }}: load is not upstream of this task, so its output is not there yet',
  ]);
  assert.deepEqual(templateProblems('{{ macros.ds_add(ds, params.nope) }}', scope), ['{{ params.nope }}: the DAG declares no param nope (it has region)']);
});

const ok = {
  dagId: 'sdk_probe',
  schedule: '@daily',
  startDate: '2024-01-01',
};

test('a DAG compiles with Airflow defaults, its graph in order, each task with its upstream and downstream', () => {
  const compiled = compileDag(
    dag({ ...ok, params: z.object({ region: z.string().default('eu') }) }, ({ ds }) => {
      // load reads extract, declared after it, through a template string: the read makes the edge.
      const load = sql('load', { conn: 'warehouse', sql: 'SELECT {{ xcom.extract.tail }}, {{ params.region }}' });
      const extract = command('extract', { argv: ['extract', `${ds}`] });
      // report reads extract too, but through load: its one upstream is load.
      const report = http('report', { conn: 'api', path: `/report/${ds}`, upstream: [load], json: { tail: `${extract.tail}` } });
      empty('cleanup', { upstream: [report], teardown: true });
    }),
  );
  assert.deepEqual(compiled.order, ['extract', 'load', 'report', 'cleanup']);
  assert.equal(compiled.workflowType, 'sdk_probe');
  assert.deepEqual(
    compiled.tasks.map((t) => [t.taskId, t.upstream, t.downstream, t.triggerRule]),
    [
      ['load', ['extract'], ['report'], 'all_success'],
      ['extract', [], ['load'], 'all_success'],
      ['report', ['load'], ['cleanup'], 'all_success'],
      ['cleanup', ['report'], [], 'all_done_setup_success'],
    ],
  );
  assert.deepEqual(compiled.definition, {
    dagId: 'sdk_probe',
    workflowType: 'sdk_probe',
    description: '',
    schedule: '@daily',
    timezone: 'UTC',
    timetable: 'interval',
    startDate: '2024-01-01',
    catchup: false,
    maxActiveRuns: 16,
    tags: [],
    defaultArgs: { owner: 'airflow', dependsOnPast: false, email: [], emailOnFailure: false, emailOnRetry: false, retries: 0, retryDelay: '5m' },
  });
});

test('every problem of a DAG file is named with its task, before anything runs', () => {
  /** The problems of a DAG file's definition, as compile names them. */
  const problemsOf = (file: DagFileDefinition) => {
    try {
      compileDag(file);
    } catch (err) {
      assert.ok(err instanceof InvalidDagFile, String((err as Error).stack));
      assert.ok(err.message.startsWith('DAG "sdk_probe": '), err.message);
      return err.problems;
    }
    assert.fail('it compiled');
  };
  /** The problems of a DAG whose tasks `build` declares. */
  const problems = (build: (scope: DagScope<z.ZodObject>) => void, extra: Partial<DagSettings<z.ZodObject>> = {}) =>
    problemsOf(dag({ ...ok, ...extra }, build));
  /** The problems of tasks written as data, as no operator makes them. */
  const rawProblems = (tasks: Record<string, unknown>) => problemsOf({ ...ok, tasks } as never);
  const own = ownTasks<Record<string, (args?: unknown) => Promise<unknown>>>();
  assert.deepEqual(
    problems(() => {}),
    ['it has no tasks'],
  );
  assert.deepEqual(
    problems(() => {
      // a reads c, declared after it: a template string can name a task a handle cannot yet.
      const a = command('a', { argv: ['a', '{{ xcom.c.tail }}'] });
      const b = command('b', { argv: ['b'], upstream: [a] });
      command('c', { argv: ['c'], upstream: [b] });
    }),
    ['the tasks form a cycle: a >> b >> c >> a'],
  );
  // A handle of another DAG's task.
  let elsewhere: TaskOf<unknown> | undefined;
  dag({ ...ok, dagId: 'elsewhere' }, () => {
    elsewhere = empty('missing');
  });
  assert.deepEqual(
    problems(() => {
      command('a', { argv: ['a'], upstream: [elsewhere!] });
    }),
    ['task a: upstream missing is not a task of this DAG'],
  );
  assert.deepEqual(
    problems(() => {
      empty('bad-id');
    }),
    ['task bad-id: a task id is letters, digits and _, starting with a letter'],
  );
  assert.deepEqual(
    problems(() => {
      command('a', { argv: [] });
    }),
    ['task a: command argv: the program to run, then its arguments'],
  );
  assert.deepEqual(
    problems(() => {
      // A setting the operator does not take, past tsc (a DAG file in plain JavaScript).
      command('a', { argv: ['x'], ...({ shell: 'bash' } as object) });
    }),
    ['task a: command: unknown setting shell'],
  );
  assert.deepEqual(
    problems(() => {
      http('a', { conn: 'Bad Conn', path: 'no-slash' });
    }),
    ['task a: http conn: a connection name: lower-case letters, digits and _', 'task a: http path: a path under the connection, starting with /'],
  );
  assert.deepEqual(
    problems(() => {
      sql('a', { conn: 'warehouse', sql: { file: '../secret.sql' } });
    }),
    ['task a: sql sql.file: a relative path without ..'],
  );
  assert.deepEqual(
    problems(() => {
      empty('a', { triggerRule: 'some_success' as never });
    }),
    [
      'task a: trigger rule "some_success" is not one of all_success, all_failed, all_done, all_done_setup_success, one_success, one_failed, none_failed, none_failed_min_one_success, none_skipped, always, one_done, all_skipped, all_done_min_one_success',
    ],
  );
  assert.deepEqual(
    problems(() => {
      empty('a', { teardown: true, triggerRule: 'all_success' });
      empty('b', { teardown: true, setup: true });
    }),
    [
      'task a: a teardown runs when its upstream is done and a setup it follows succeeded (all_done_setup_success)',
      'task b: a task is a setup or a teardown, not both',
    ],
  );
  // Written as data, a template may read a task that is not upstream; in a DAG file the read makes the edge.
  assert.deepEqual(rawProblems({ a: { operator: 'command', argv: ['x', '{{ xcom.b.rows }}'] }, b: { operator: 'empty' } }), [
    'task a: {{ xcom.b.rows }}: b is not upstream of this task, so its output is not there yet',
  ]);
  // A field the upstream's output does not have, or a task the DAG does not have.
  assert.deepEqual(
    problems(() => {
      command('a', { argv: ['x', '{{ xcom.b.rows }}'] });
      empty('b');
    }),
    ['task a: {{ xcom.b.rows }}: b (empty) has no output field rows; it has none'],
  );
  assert.deepEqual(
    problems(() => {
      const a = command('a', { argv: ['a'] });
      command('b', { upstream: [a], argv: ['b', '{{ xcom.a.missing }}', '{{ xcom.c.tail }}'] });
    }),
    ['task b: {{ xcom.a.missing }}: a (command) has no output field missing; it has exitCode, tail', 'task b: {{ xcom.c.tail }}: the DAG has no task c'],
  );
  assert.deepEqual(
    problems(() => {
      own['not a name']('a');
    }),
    ['task a: task activity: the name of an exported function'],
  );
  assert.deepEqual(rawProblems({ a: { operator: 'python', upstream: [] } }), [
    'task a: unknown operator "python"; known: sql, loadCsv, dbt, command, http, duckdb, fileSensor, sqlSensor, branch, shortCircuit, notify, task, triggerDag, waitForDag, empty',
  ]);
  assert.deepEqual(
    problems(() => {
      dbt('a', { command: 'build', select: 'tag:x; rm -rf /' });
    }),
    ['task a: dbt select: a dbt selector (letters, digits, _ : + . , * @ and spaces)'],
  );
  assert.deepEqual(
    problems(() => {
      dbt('a', { command: 'build', project: '../elsewhere' });
    }),
    ['task a: dbt project: a relative path without ..'],
  );
  assert.deepEqual(
    problems(() => {
      duckdb('a', { sql: "SELECT 1; COPY t TO '/tmp/x'", output: 'p/x.parquet' });
    }),
    ['task a: duckdb sql: one query (SELECT, WITH, FROM or VALUES), without ;'],
  );
  assert.deepEqual(
    problems(() => {
      duckdb('a', { sql: 'DELETE FROM t', output: 'p/x.csv' });
    }),
    ['task a: duckdb sql: one query (SELECT, WITH, FROM or VALUES), without ;', 'task a: duckdb output: a .parquet file'],
  );
  assert.deepEqual(
    problems(() => {
      sqlSensor('a', { conn: 'warehouse', sql: 'SELECT 1', mode: 'poke' as never });
    }),
    ['task a: sqlSensor mode: Invalid option: expected one of "reschedule"|"deferrable"'],
  );
  assert.deepEqual(
    problems(() => {
      waitForDag('a', { dag: 'daily etl', task: '1st', shift: { days: 1.5, weeks: 1 } as never, mode: 'poke' as never, pokeInterval: 'often' });
    }),
    [
      'task a: waitForDag mode: Invalid option: expected one of "reschedule"|"deferrable"',
      'task a: waitForDag pokeInterval: a duration such as 30s, 5m or 1h',
      "task a: waitForDag dag: a DAG's dag_id",
      'task a: waitForDag task: a task id of that DAG',
      'task a: waitForDag shift.days: Invalid input: expected int, received number',
      'task a: waitForDag shift: unknown setting weeks',
    ],
  );
  const contract = { header: 'exact' as const, columns: [{ name: 'id', type: 'integer' }] };
  assert.equal(
    compileDag(
      dag({ dagId: 'l', schedule: '@daily', startDate: '2024-01-01' }, () => {
        loadCsv('a', { file: 'raw/a_{{ ds }}.csv', contract, table: 'examples.a' });
      }),
    ).order[0],
    'a',
  );
  assert.deepEqual(
    problems(() => {
      loadCsv('a', { file: 'raw/a.csv', contract: { ...contract, columns: [{ name: 'Id', type: 'int' }] }, table: 'a' });
    }),
    ['task a: loadCsv contract: a valid column contract (src/column-contract.ts)', 'task a: loadCsv table: schema.table, lower-case'],
  );
  assert.deepEqual(rawProblems({ a: 'echo hi' }), ['task a: not a task (make it with an operator: sql(...), command(...), ...)']);
  // A doc is a template like the others; a cache names a duration and a file of the data directory.
  assert.deepEqual(
    problems(() => {
      empty('a', { doc: 'load {{ dss }}' });
    }),
    [
      'task a: unknown placeholder {{ dss }}; known: ds, ds_nodash, data_interval_start, data_interval_end, params.<name>, conf.<key>, xcom.<task>.<key>, macros.ds_add, macros.ds_format',
    ],
  );
  assert.deepEqual(
    problems(() => {
      own.f('a', { cache: { expiresIn: 'an hour', inputFile: '../x.csv' } });
    }),
    ['task a: task cache.expiresIn: a duration such as 30s, 5m or 1h', 'task a: task cache.inputFile: a relative path without ..'],
  );
  assert.deepEqual(
    problems(() => {
      own.f('a', { cache: { expiresIn: '1h', policy: '{{ params.nope }}' } });
    }),
    ['task a: {{ params.nope }}: the DAG declares no param nope'],
  );
});

test('DuckDB SQL text takes a placeholder only when its value cannot end a literal or add a clause', () => {
  const ctx = { ds: '2024-05-06', conf: { name: "x' UNION SELECT 1 --", region: 'eu-west' }, params: {}, xcom: {} } as unknown as TemplateContext;
  assert.equal(
    renderSqlText("SELECT * FROM read_csv('raw/{{ conf.region }}/orders_{{ ds }}.csv')", ctx),
    "SELECT * FROM read_csv('raw/eu-west/orders_2024-05-06.csv')",
  );
  assert.throws(
    () => renderSqlText("SELECT * FROM read_csv('raw/{{ conf.name }}.csv')", ctx),
    /\{\{ conf\.name \}\} is "x' UNION SELECT 1 --": only letters, digits, spaces and _ \. : \/ \+ - go into SQL text/,
  );
});

test('pausedOnCreation reaches the definition the schedule sync reads; without it a schedule is created running', () => {
  const base = { dagId: 'p', schedule: '@daily', startDate: '2024-01-01' };
  const build = () => {
    empty('a');
  };
  assert.equal(compileDag(dag({ ...base, pausedOnCreation: true }, build)).definition.pausedOnCreation, true);
  assert.equal(compileDag(dag(base, build)).definition.pausedOnCreation, undefined);
});

test("each operator's templated fields are checked before anything runs, and a read of its output is checked against its fields", () => {
  const bad = '{{ params.nope }}';
  const contract = { header: 'exact' as const, columns: [{ name: 'id', type: 'integer' }] };
  /** Each operator's task with the undeclared param in every templated field; how many there are; the fields its output has (`*`: any). */
  const samples: { [K in OperatorName]: [task: TaskOfOperator<K>, templated: number, fields: string] } = {
    sql: [{ operator: 'sql', conn: 'warehouse', sql: `SELECT ${bad}` }, 1, 'rows'],
    loadCsv: [
      { operator: 'loadCsv', file: `raw/${bad}.csv`, contract, table: 'examples.a' },
      1,
      'table, rows, rejected, records, duplicates, replaced, lines, bytes',
    ],
    dbt: [{ operator: 'dbt', command: 'run', vars: { day: bad } }, 1, 'command, nodes, statuses'],
    command: [{ operator: 'command', argv: ['echo', bad], env: { DAY: bad } }, 2, 'exitCode, tail'],
    http: [{ operator: 'http', conn: 'api', path: `/rates/${bad}`, json: { day: bad } }, 2, 'status, bytes, json'],
    duckdb: [{ operator: 'duckdb', sql: `SELECT '${bad}'`, output: `out/${bad}.parquet` }, 2, 'path, rows, bytes'],
    fileSensor: [{ operator: 'fileSensor', path: `raw/${bad}.csv` }, 1, 'checks'],
    sqlSensor: [{ operator: 'sqlSensor', conn: 'warehouse', sql: `SELECT ${bad}` }, 1, 'checks'],
    branch: [{ operator: 'branch', choose: () => 'r' }, 0, 'follow'],
    shortCircuit: [{ operator: 'shortCircuit', condition: () => true }, 0, 'condition'],
    notify: [{ operator: 'notify', to: ['data@example.com'], subject: bad, body: bad }, 2, 'delivered'],
    task: [{ operator: 'task', activity: 'f', args: { day: bad }, cache: { expiresIn: '1h', policy: bad, inputFile: `raw/${bad}` } }, 3, '*'],
    empty: [{ operator: 'empty' }, 0, 'none'],
    triggerDag: [{ operator: 'triggerDag', dag: 'other', ds: bad, conf: { day: bad } }, 2, 'dagId, ds, workflowId, runId, state'],
    waitForDag: [{ operator: 'waitForDag', dag: 'other', ds: bad }, 1, 'dagId, ds, workflowId, state, checks'],
  };
  const settings = { dagId: 'operators_probe', schedule: '@daily', startDate: '2024-01-01' };
  for (const [operator, [task, templated, fields]] of Object.entries(samples)) {
    // A reader of a field no output has: the check names the fields the output has, unless any may be there.
    const reader = { operator: 'command', argv: ['echo', '{{ xcom.t.nope }}'], upstream: ['t'] };
    let problems: string[] = [];
    try {
      compileDag({ ...settings, tasks: { t: { ...task, doc: bad }, r: reader } } as DagFileDefinition);
    } catch (err) {
      assert.ok(err instanceof InvalidDagFile, String(err));
      problems = err.problems;
    }
    assert.deepEqual(
      problems,
      [
        // The doc, then each templated field of the operator's.
        ...Array.from({ length: 1 + templated }, () => 'task t: {{ params.nope }}: the DAG declares no param nope'),
        ...(fields === '*' ? [] : [`task r: {{ xcom.t.nope }}: t (${operator}) has no output field nope; it has ${fields}`]),
      ],
      operator,
    );
  }
});
