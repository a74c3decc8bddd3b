/** DAG files for the engine's workflow tests: registered as a bundle's entry is (src/dag-files.ts). */
import { branch, command, dag, dbt, duckdb, empty, loadCsv, ownTasks, result, shortCircuit, sqlSensor, triggerDag, z } from '../../src/sdk';
import { registerDagFiles } from '../../workflows/dag-registry';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';

const base = { schedule: '@daily', startDate: '2024-01-01', maxActiveRuns: null } as const;

/** The probes' own tasks, mocked in engine.test.ts as `<dag_id>.<name>`. */
const callbacks = ownTasks<{ record: (args: { event: string; message: string }) => Promise<void> }>();
const recorder = ownTasks<{ record: (args: { ds: string }) => Promise<{ recorded: boolean }> }>();
const own = ownTasks<{
  produce: (args: { day: string }) => Promise<{ path: string; bytes: number; rows: number }>;
  echo: (args?: Record<string, unknown>) => Promise<Record<string, unknown>>;
}>();

/** a and b at once, joined, then a teardown; c fails when conf says so, on_failed catches it. */
export const fanIn = dag({ ...base, dagId: 'engine_fan_in' }, ({ ds, conf }) => {
  const a = command('a', { argv: ['a', `${ds}`] });
  const b = command('b', { argv: ['b', `${conf.b_arg}`] });
  // Reading both outputs makes join wait for both.
  const join = command('join', { argv: ['join', `${a.tail}+${b.tail}`] });
  empty('on_failed', { upstream: [a, b], triggerRule: 'one_failed' });
  command('cleanup', { upstream: [join], teardown: true, argv: ['cleanup'] });
});

/**
 * A setup, the work in its scope (one task directly after it, one after that with all_done) and
 * its teardown; conf says whether the setup and the work fail, and whether the setup is skipped.
 */
export const setupTeardown = dag(
  { ...base, dagId: 'engine_setup', params: z.object({ setup: z.enum(['ok', 'fail', 'skip']).default('ok'), work: z.enum(['ok', 'fail']).default('ok') }) },
  ({ params }) => {
    const create = command('create_cluster', {
      setup: true,
      inputs: { setup: params.setup },
      skipIf: ({ setup }) => setup === 'skip' && 'conf setup skip',
      argv: ['create', `${params.setup}`],
    });
    const work = command('work', { upstream: [create], argv: ['work', `${params.work}`] });
    const report = command('report', { upstream: [work], triggerRule: 'all_done', argv: ['report'] });
    command('delete_cluster', { upstream: [create, report], teardown: true, argv: ['delete'] });
  },
);

/** Runs engine_fan_in for its own date, with conf, and waits for it (Airflow's TriggerDagRunOperator). */
export const trigger = dag({ ...base, dagId: 'engine_trigger', params: z.object({ b_arg: z.string().default('x') }) }, ({ params }) => {
  triggerDag('run_fan_in', { dag: 'engine_fan_in', conf: { b_arg: params.b_arg }, wait: true, retries: 0 });
});

/** Retries with exponential backoff and the three callbacks. */
export const retries = dag(
  {
    ...base,
    dagId: 'engine_retries',
    defaultArgs: { retries: 3, retryDelay: '1m', retryExponentialBackoff: true, maxRetryDelay: '3m' },
  },
  () => {
    const flaky = command('flaky', { argv: ['flaky'], onRetry: callbacks.record, onSuccess: callbacks.record });
    command('doomed', { upstream: [flaky], argv: ['fail'], retries: 1, onFailure: callbacks.record });
  },
);

/** A branch and a short circuit, on params validated before anything runs. */
export const choices = dag(
  {
    ...base,
    dagId: 'engine_choices',
    params: z.object({ side: z.enum(['left', 'right']).default('left'), go: z.boolean().default(true), limit: z.number().int().min(1).default(10) }),
  },
  ({ ds_nodash, params }) => {
    const pick = branch('pick', { inputs: { side: params.side }, choose: ({ side }) => (side === 'left' ? 'left' : ['right']) });
    const left = command('left', { upstream: [pick], argv: ['left', `${params.limit}`] });
    const right = command('right', { upstream: [pick], argv: ['right'] });
    const joined = empty('joined', { upstream: [left, right], triggerRule: 'none_failed_min_one_success' });
    const gate = shortCircuit('gate', { upstream: [joined], inputs: { go: params.go }, condition: ({ go }) => go === true });
    const afterGate = command('after_gate', { upstream: [gate], argv: ['after', '{{ macros.ds_add(ds, 1) }}'] });
    recorder.record('last', { upstream: [afterGate], args: { ds: ds_nodash }, triggerRule: 'all_done' });
    return result({}, (_, run) => ({ picked: run.states.left === 'success' ? 'left' : 'right' }));
  },
);

/**
 * A template that reads what the upstream task's output does not have at run time (a field its
 * operator's output never has, as `{{ xcom.a.missing }}`, is refused by compile before any run).
 */
export const badTemplate = dag({ ...base, dagId: 'engine_bad_template' }, () => {
  const a = command('a', { argv: ['a'] });
  command('b', { upstream: [a], argv: ['b', '{{ xcom.a.tail.missing }}'] });
});

/** The data operators: a sensor that soft-fails on a region without rows, a load, DuckDB and dbt. */
export const data = dag({ ...base, dagId: 'engine_data', params: z.object({ region: z.string().default('eu') }) }, ({ ds, ds_nodash, params }) => {
  const rowsReady = sqlSensor('rows_ready', {
    conn: 'source',
    sql: `SELECT count(*) FROM t WHERE ds = ${ds} AND region = ${params.region}`,
    pokeInterval: '1s',
    timeout: '3s',
    softFail: true,
  });
  const load = loadCsv('load', {
    upstream: [rowsReady],
    file: `raw/${params.region}/t_${ds}.csv`,
    table: 'examples.t',
    mode: 'partition',
    contract: { header: 'exact', columns: [{ name: 'id', type: 'integer' }] },
  });
  duckdb('to_parquet', { upstream: [load], sql: `SELECT * FROM 'raw/${params.region}/t_${ds}.csv'`, output: `p/t_${ds_nodash}.parquet` });
  // A template string: dbt's vars get the rendered text.
  dbt('build', { command: 'build', select: `tag:${params.region}`, vars: { rows: `${load.rows}` } });
});

/**
 * The SDK's task-level functions: a cached task (its output a file reference), args computed from
 * an upstream output, a templated doc, skipIf, a summary, and a result that says its state.
 */
export const cached = dag({ ...base, dagId: 'engine_cached', params: z.object({ skip: z.boolean().default(false) }) }, ({ ds, params }) => {
  const produce = own.produce('produce', {
    args: { day: ds },
    cache: { expiresIn: '1h', inputFile: `raw/x_${ds}.csv` },
    summary: (r) => ({ rows: r.rows }),
  });
  const double = own.echo('double', {
    doc: `double the rows of ${ds}`,
    inputs: { produced: produce },
    args: ({ produced }) => ({ rows: produced.rows * 2 }),
  });
  own.echo('maybe', { upstream: [double], inputs: { skip: params.skip }, skipIf: ({ skip }) => skip === true && 'params.skip', args: { never: 'if skipped' } });
  return result({ doubled: double }, ({ doubled }, run) => ({ state: 'success', cache: run.cached.produce, doubled }));
});

/** A cached task must return a file reference. */
export const cachedBad = dag({ ...base, dagId: 'engine_cached_bad' }, () => {
  own.echo('produce', { args: { rows: 1 }, cache: { expiresIn: '1h' } });
});

/** A skipIf that throws is the DAG's own bug: its task fails, the run does not stall. */
export const skipThrows = dag({ ...base, dagId: 'engine_skip_throws' }, () => {
  own.echo('broken', {
    skipIf: () => {
      throw new Error('skipIf read what is not there');
    },
  });
});

registerDagFiles([fanIn, setupTeardown, trigger, retries, choices, badTemplate, data, cached, cachedBad, skipThrows]);
