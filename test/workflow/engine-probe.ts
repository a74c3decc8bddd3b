/** DAG files for the engine's workflow tests: registered as a bundle's entry is (src/dag-files.ts). */
import { branch, command, dag, dbt, duckdb, empty, loadCsv, shortCircuit, sqlSensor, task, z } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';

const base = { schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null } as const;

/** a and b at once, joined, then a teardown; c fails when conf says so, on_failed catches it. */
export const fanIn = dag({
  ...base,
  dagId: 'engine_fan_in',
  tasks: {
    a: command({ argv: ['a', '{{ ds }}'] }),
    b: command({ argv: ['b', '{{ conf.b_arg }}'] }),
    join: command({ upstream: ['a', 'b'], argv: ['join', '{{ xcom.a.tail }}+{{ xcom.b.tail }}'] }),
    on_failed: empty({ upstream: ['a', 'b'], triggerRule: 'one_failed' }),
    cleanup: command({ upstream: ['join'], teardown: true, argv: ['cleanup'] }),
  },
});

/** Retries with exponential backoff and the three callbacks. */
export const retries = dag({
  ...base,
  dagId: 'engine_retries',
  defaultArgs: { retries: 3, retryDelay: '1m', retryExponentialBackoff: true, maxRetryDelay: '3m' },
  tasks: {
    flaky: command({ argv: ['flaky'], onRetry: { task: 'record' }, onSuccess: { task: 'record' } }),
    doomed: command({ upstream: ['flaky'], argv: ['fail'], retries: 1, onFailure: { task: 'record' } }),
  },
});

/** A branch and a short circuit, on params validated before anything runs. */
export const choices = dag({
  ...base,
  dagId: 'engine_choices',
  params: z.object({ side: z.enum(['left', 'right']).default('left'), go: z.boolean().default(true), limit: z.number().int().min(1).default(10) }),
  tasks: {
    pick: branch({ choose: (run) => (run.params.side === 'left' ? 'left' : ['right']) }),
    left: command({ upstream: ['pick'], argv: ['left', '{{ params.limit }}'] }),
    right: command({ upstream: ['pick'], argv: ['right'] }),
    joined: empty({ upstream: ['left', 'right'], triggerRule: 'none_failed_min_one_success' }),
    gate: shortCircuit({ upstream: ['joined'], condition: (run) => run.params.go === true }),
    after_gate: command({ upstream: ['gate'], argv: ['after', '{{ macros.ds_add(ds, 1) }}'] }),
    last: task({ upstream: ['after_gate'], activity: 'record', args: { ds: '{{ ds_nodash }}' }, triggerRule: 'all_done' }),
  },
  result: (run) => ({ picked: run.states.left === 'success' ? 'left' : 'right' }),
});

/** A template that reads an output key the upstream task did not give. */
export const badTemplate = dag({
  ...base,
  dagId: 'engine_bad_template',
  tasks: { a: command({ argv: ['a'] }), b: command({ upstream: ['a'], argv: ['b', '{{ xcom.a.missing }}'] }) },
});

/** The data operators: a sensor that soft-fails on a region without rows, a load, DuckDB and dbt. */
export const data = dag({
  ...base,
  dagId: 'engine_data',
  params: z.object({ region: z.string().default('eu') }),
  tasks: {
    rows_ready: sqlSensor({
      conn: 'source',
      sql: 'SELECT count(*) FROM t WHERE ds = {{ ds }} AND region = {{ params.region }}',
      pokeInterval: '1s',
      timeout: '3s',
      softFail: true,
    }),
    load: loadCsv({
      upstream: ['rows_ready'],
      file: 'raw/{{ params.region }}/t_{{ ds }}.csv',
      table: 'examples.t',
      mode: 'partition',
      contract: { header: 'exact', columns: [{ name: 'id', type: 'integer' }] },
    }),
    to_parquet: duckdb({ upstream: ['load'], sql: "SELECT * FROM 'raw/{{ params.region }}/t_{{ ds }}.csv'", output: 'p/t_{{ ds_nodash }}.parquet' }),
    build: dbt({ upstream: ['load'], command: 'build', select: 'tag:{{ params.region }}', vars: { rows: '{{ xcom.load.rows }}' } }),
  },
});

/**
 * The SDK's task-level functions: a cached task (its output a file reference), args computed from
 * XCom, a templated doc, skipIf, a summary, and a result that says its state.
 */
export const cached = dag({
  ...base,
  dagId: 'engine_cached',
  params: z.object({ skip: z.boolean().default(false) }),
  tasks: {
    produce: task({
      activity: 'produce',
      args: { day: '{{ ds }}' },
      cache: { expiresIn: '1h', inputFile: 'raw/x_{{ ds }}.csv' },
      summary: (r: { rows: number }) => ({ rows: r.rows }),
    }),
    double: task({
      upstream: ['produce'],
      activity: 'echo',
      doc: 'double the rows of {{ ds }}',
      args: (run) => ({ rows: (run.xcom.produce as { rows: number }).rows * 2 }),
    }),
    maybe: task({ upstream: ['double'], activity: 'echo', skipIf: (run) => run.params.skip === true && 'params.skip', args: { never: 'if skipped' } }),
  },
  result: (run) => ({ state: 'success', cache: run.cached.produce, doubled: run.xcom.double }),
});

/** A cached task must return a file reference. */
export const cachedBad = dag({
  ...base,
  dagId: 'engine_cached_bad',
  tasks: { produce: task({ activity: 'echo', args: { rows: 1 }, cache: { expiresIn: '1h' } }) },
});

/** A skipIf that throws is the DAG's own bug: its task fails, the run does not stall. */
export const skipThrows = dag({
  ...base,
  dagId: 'engine_skip_throws',
  tasks: {
    broken: task({
      activity: 'echo',
      skipIf: () => {
        throw new Error('skipIf read what is not there');
      },
    }),
  },
});

registerDagFiles([fanIn, retries, choices, badTemplate, data, cached, cachedBad, skipThrows]);
