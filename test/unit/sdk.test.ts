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
  group,
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
import { formatName, parseName } from '../../src/sdk/names';
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
    'unknown placeholder {{ dss }}; known: ds, ds_nodash, ts, ts_nodash, data_interval_start, data_interval_end, params.<name>, conf.<key>, xcom.<task>.<key>, macros.ds_add, macros.ds_format',
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
    'task a: unknown operator "python"; known: sql, loadCsv, dbt, command, http, duckdb, fileSensor, sqlSensor, branch, shortCircuit, approval, notify, task, triggerDag, waitForDag, empty',
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
      "task a: waitForDag task: a task id of that DAG (a group's task: load.region_eu)",
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
      'task a: unknown placeholder {{ dss }}; known: ds, ds_nodash, ts, ts_nodash, data_interval_start, data_interval_end, params.<name>, conf.<key>, xcom.<task>.<key>, macros.ds_add, macros.ds_format',
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
    approval: [{ operator: 'approval', subject: bad, body: bad, options: ['a', 'b'] }, 2, 'approved, by, at, reason, chosen'],
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

test("a group's tasks are its id and theirs joined by .; groups nest; it stands for its leaves downstream and its roots take its upstream", () => {
  const file = dag({ ...ok }, ({ ds }) => {
    const extract = command('extract', { argv: ['extract', `${ds}`] });
    const load = group('load', { upstream: [extract] }, () => {
      const eu = sql('region_eu', { conn: 'warehouse', sql: `SELECT count(*) FROM t WHERE ds = ${ds}` });
      const us = sql('region_us', { conn: 'warehouse', sql: 'SELECT 1' });
      const orders = group('orders', () => {
        const stage = empty('stage');
        // Inside the group, a read of another of its tasks, as outside: by reference.
        const merge = command('merge', { argv: ['merge', `${eu.rows}`], upstream: [stage] });
        return { merge };
      });
      return { eu, us, orders };
    });
    // Outside, the group's tasks are read through what the group returned, typed.
    const report = command('report', { argv: ['report', `${load.us.rows}`, `${load.orders.merge.tail}`], upstream: [load] });
    empty('done', { upstream: [report] });
    // tsc holds the reads to the types: sql's output has rows, and the group returned eu, us and orders.
    // @ts-expect-error: no field rowz
    assert.ok(load.eu.rowz);
    // @ts-expect-error: no region_eu
    assert.equal(load.region_eu, undefined);
    return { rows: load.eu.rows };
  });
  const compiled = compileDag(file);
  assert.deepEqual(compiled.order, ['extract', 'load.region_eu', 'load.region_us', 'load.orders.stage', 'load.orders.merge', 'report', 'done']);
  assert.deepEqual(
    compiled.tasks.map((t) => [t.taskId, t.upstream, t.downstream]),
    [
      ['extract', [], ['load.region_eu', 'load.region_us', 'load.orders.stage']],
      // Each root of load (a task no other task of load precedes) after load's upstream.
      ['load.region_eu', ['extract'], ['load.orders.merge']],
      ['load.region_us', ['extract'], ['report']],
      ['load.orders.stage', ['extract'], ['load.orders.merge']],
      ['load.orders.merge', ['load.orders.stage', 'load.region_eu'], ['report']],
      // After load: its leaves, the tasks no other task of load follows.
      ['report', ['load.region_us', 'load.orders.merge'], ['done']],
      ['done', ['report'], []],
    ],
  );
  // A read of a group's task is its dotted id quoted, so it cannot be taken for a field path.
  assert.deepEqual((compiled.tasks[4].definition as TaskOfOperator<'command'>).argv, ['merge', "{{ xcom['load.region_eu'].rows }}"]);
  assert.deepEqual((compiled.tasks[5].definition as TaskOfOperator<'command'>).argv, [
    'report',
    "{{ xcom['load.region_us'].rows }}",
    "{{ xcom['load.orders.merge'].tail }}",
  ]);
  const xcom = { 'load.region_eu': { rows: 3 }, 'load.region_us': { rows: 4 }, 'load.orders.merge': { exitCode: 0, tail: 'merged' } };
  const ctx = { ...context, xcom, dagId: 'sdk_probe', states: {}, cached: {} };
  assert.equal(render((compiled.tasks[5].definition as TaskOfOperator<'command'>).argv.slice(1).join(' '), ctx), '4 merged');
  assert.deepEqual(file.result!(ctx), { rows: 3 });
});

test("a group's task is read in a template as xcom['<group>.<task>']; xcom.<group>.<task> is a field path, refused with the way to write it", () => {
  const ctx: TemplateContext = { ...context, xcom: { extract: { rows: 42 }, 'load.region_eu': { rows: 3, table: { name: 'eu' } } } };
  assert.equal(render('{{ xcom[\'load.region_eu\'].rows }} {{ xcom["load.region_eu"].table.name }} {{ xcom.extract.rows }}', ctx), '3 eu 42');
  assert.deepEqual(renderDeep({ $ref: ["xcom['load.region_eu'].rows"] }, ctx), 3);
  assert.throws(() => render('{{ xcom.load.region_eu.rows }}', ctx), /^TemplateError: \{\{ xcom\.load\.region_eu\.rows \}\}: xcom has no load$/);
  assert.throws(
    () => renderDeep({ $ref: ["xcom['load.region_us'].rows"] }, ctx),
    /^TemplateError: xcom\['load\.region_us'\]\.rows: load\.region_us gave no output \(skipped, failed or not run\)/,
  );
  assert.deepEqual(parseName("xcom['load.eu'].rows"), ['xcom', 'load.eu', 'rows']);
  assert.deepEqual(parseName('xcom.load.eu.rows'), ['xcom', 'load', 'eu', 'rows']);
  assert.equal(parseName("xcom['load.eu'"), undefined);
  assert.equal(formatName(['xcom', 'load.eu', 'rows']), "xcom['load.eu'].rows");
  assert.equal(formatName(['xcom', 'extract', 'rows']), 'xcom.extract.rows');

  const outputs = new Map([
    ['extract', { operator: 'command', fields: ['exitCode', 'tail'] }],
    ['load.region_eu', { operator: 'sql', fields: ['rows'] }],
    ['load.region_us', { operator: 'sql', fields: ['rows'] }],
  ]);
  const scope = { params: [], upstream: ['extract', 'load.region_eu'], outputs };
  assert.deepEqual(templateProblems("{{ xcom['load.region_eu'].rows }} {{ xcom.extract.tail }}", scope), []);
  assert.deepEqual(templateProblems("{{ xcom['load.region_eu'].bytes }} {{ xcom['load.region_us'].rows }}", scope), [
    "{{ xcom['load.region_eu'].bytes }}: load.region_eu (sql) has no output field bytes; it has rows",
    "{{ xcom['load.region_us'].rows }}: load.region_us is not upstream of this task, so its output is not there yet",
  ]);
  assert.deepEqual(templateProblems('{{ xcom.load.region_eu.rows }} {{ xcom.load.rows }}', scope), [
    "{{ xcom.load.region_eu.rows }}: the DAG has no task load; load is a group, whose task load.region_eu is read as {{ xcom['load.region_eu'].rows }}",
    "{{ xcom.load.rows }}: the DAG has no task load; load is a group: read one of its tasks (load.region_eu, load.region_us) as {{ xcom['load.region_eu'].<field> }}",
  ]);
});

test('group ids are checked, and an id given twice (a task or a group of the same name) is refused, naming it', () => {
  const refused = (build: () => void) => {
    try {
      dag({ ...ok }, build);
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('it was accepted');
  };
  assert.equal(
    refused(() => void group('bad-name', () => void empty('a'))),
    'DAG "sdk_probe": group "bad-name": a group id is letters, digits and _, starting with a letter (a group inside a group is declared inside its function)',
  );
  assert.equal(
    refused(() => void group('load.eu', () => void empty('a'))),
    'DAG "sdk_probe": group "load.eu": a group id is letters, digits and _, starting with a letter (a group inside a group is declared inside its function)',
  );
  assert.equal(
    refused(() => void empty('load.eu')),
    'DAG "sdk_probe": task "load.eu": a task id has no dots; a group\'s task is declared inside group("load", () => { ... })',
  );
  assert.equal(
    refused(() => {
      group('load', () => void empty('a'));
      group('load', () => void empty('b'));
    }),
    'DAG "sdk_probe": group "load" is declared twice',
  );
  assert.equal(
    refused(() => {
      group('load', () => {
        empty('a');
        empty('a');
      });
    }),
    'DAG "sdk_probe": task "load.a" is declared twice',
  );
  assert.equal(
    refused(() => {
      empty('load');
      group('load', () => void empty('a'));
    }),
    'DAG "sdk_probe": group "load": its id is also a task\'s',
  );
  assert.equal(
    refused(() => {
      group('load', () => {
        group('eu', () => void empty('a'));
        empty('eu');
      });
    }),
    'DAG "sdk_probe": task "load.eu": its id is also a group\'s',
  );
  assert.equal(
    refused(() => void group('load', () => {})),
    'DAG "sdk_probe": group "load" declares no tasks',
  );
  assert.equal(
    refused(() => void group('load', () => empty('a') as never)),
    'DAG "sdk_probe": group "load": its function returns its tasks by name (return { eu, us }) or nothing',
  );
  assert.equal(
    refused(() => void empty('a', { upstream: [{} as never] })),
    'DAG "sdk_probe": task "a": upstream[0] is not a task or a group (pass what an operator or group(...) returned)',
  );
  assert.throws(() => group('load', () => {}), /^Error: group\("load"\) is called outside a DAG/);
  // The same task id in two groups is two tasks.
  const compiled = compileDag(
    dag({ ...ok }, () => {
      const load = group('load', () => void empty('check'));
      group('publish', { upstream: [load] }, () => void empty('check'));
    }),
  );
  assert.deepEqual(
    compiled.tasks.map((t) => [t.taskId, t.upstream]),
    [
      ['load.check', []],
      ['publish.check', ['load.check']],
    ],
  );
  // Written as data, a dotted id is checked part by part, and no task's id is a group's.
  const rawProblems = (tasks: Record<string, unknown>) => {
    try {
      compileDag({ ...ok, tasks } as never);
    } catch (err) {
      return (err as InvalidDagFile).problems;
    }
    assert.fail('it compiled');
  };
  assert.deepEqual(rawProblems({ 'load.bad-name': { operator: 'empty' }, 'load.': { operator: 'empty' } }), [
    "task load.bad-name: a group's task id is its groups' ids and its own joined by ., each letters, digits and _, starting with a letter",
    "task load.: a group's task id is its groups' ids and its own joined by ., each letters, digits and _, starting with a letter",
  ]);
  assert.deepEqual(rawProblems({ load: { operator: 'empty' }, 'load.eu': { operator: 'empty' } }), [
    "task load: its id is also a group's (the group of load.eu)",
  ]);
  assert.deepEqual(
    rawProblems({
      a: { operator: 'command', argv: ['x', '{{ xcom.load.eu.rows }}'], upstream: ['load.eu'] },
      'load.eu': { operator: 'sql', conn: 'warehouse', sql: 'SELECT 1' },
    }),
    ["task a: {{ xcom.load.eu.rows }}: the DAG has no task load; load is a group, whose task load.eu is read as {{ xcom['load.eu'].rows }}"],
  );
});
