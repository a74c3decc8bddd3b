/**
 * The workflow type ordersDailyEtl. Its runs are the DAG file workflows/dags/orders_daily_etl/
 * on the DAG engine; runs started before that finish on the hand-written workflow below, which
 * stays for them:
 *
 * orders_daily_etl, ported from Airflow:
 *   choose_source >> [wait_for_file >> extract, wait_for_data >> extract_from_db]
 *     >> check_data >> [transform >> load >> validate >> dbt_run, send_empty_alert]
 * choose_source follows the run's `source` (the file by default); check_data joins the two
 * paths with trigger rule none_failed_min_one_success, so the path not taken is skipped.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { ORDERS_SOURCES, WorkflowTypes, type ExtractResult, type OrdersDailyEtlInput, type OrdersDailyEtlResult, type OrdersSource } from '../src/contracts';
import { DEFAULT_MAX_REJECTED_RATIO, ordersDailyEtlDag } from '../src/dags';
import { chain, runDag, type DagPolicy, type TaskSpec } from './dag';
import { registeredDag } from './dag-registry';
import { runDagFile } from './engine';
import { alerts, dataTasks } from './task-options';
import { fileSensor, sqlSensor, type FileSensorSpec, type SensorOptions, type SqlSensorSpec } from './sensors';

export const ORDERS_TASKS: readonly TaskSpec[] = [
  { taskId: 'choose_source' },
  ...chain('choose_source', 'wait_for_file', 'extract').slice(1),
  ...chain('choose_source', 'wait_for_data', 'extract_from_db').slice(1),
  { taskId: 'check_data', upstream: ['extract', 'extract_from_db'], triggerRule: 'none_failed_min_one_success' },
  ...chain('check_data', 'transform', 'load', 'validate', 'dbt_run').slice(1),
  { taskId: 'send_empty_alert', upstream: ['check_data'] },
];

/** Airflow's FileSensor(filepath=".../orders_{{ ds }}.csv", poke_interval=300, timeout=3600, mode="reschedule"). */
const ORDERS_FILE: FileSensorSpec = { pathTemplate: 'raw/orders_{{ ds }}.csv', settle: '5s' };
const WAIT_FOR_FILE: SensorOptions = { mode: 'reschedule', pokeInterval: '300s', timeout: '3600s' };

/** Airflow's SqlSensor(conn_id="postgres_prod", sql=..., mode="reschedule", poke_interval=600), with its default 7-day timeout. */
export const SOURCE_CONN_ID = 'postgres_prod';
const ORDERS_ROWS: SqlSensorSpec = { connId: SOURCE_CONN_ID, sql: "SELECT COUNT(*) FROM source.orders WHERE date = '{{ ds }}'" };
const WAIT_FOR_DATA: SensorOptions = { mode: 'reschedule', pokeInterval: '600s', timeout: '604800s' };

export async function ordersDailyEtl(input?: Partial<OrdersDailyEtlInput>): Promise<OrdersDailyEtlResult> {
  if (!patched('orders-daily-etl-dag-file')) return ordersDailyEtlFor(ordersDailyEtlDag, input);
  const dag = registeredDag(WorkflowTypes.ordersDailyEtl);
  if (!dag) throw ApplicationFailure.nonRetryable('the DAG file workflows/dags/orders_daily_etl/dag.ts is not in this bundle', 'UnknownDag');
  // `source` may be given beside ds as well as in conf; the engine reads it as the param.
  const source = ordersSource(ordersDailyEtlDag, input);
  // A conf that is no object is left as it came, for the run to refuse, naming it.
  const given = input?.conf ?? {};
  const conf = given && typeof given === 'object' && !Array.isArray(given) ? { ...given, source } : given;
  return (await runDagFile(dag, { ...(input?.ds !== undefined ? { ds: input.ds } : {}), conf })) as unknown as OrdersDailyEtlResult;
}

/** The hand-written workflow's tasks under a policy (dag id, max_active_runs, default_args). */
async function ordersDailyEtlFor(dag: DagPolicy, input?: Partial<OrdersDailyEtlInput>): Promise<OrdersDailyEtlResult> {
  const source = ordersSource(dag, input);
  const maxRejectedRatio = rejectedRatioLimit(dag, (input?.conf ?? {}) as Record<string, unknown>);
  return runDag(dag, input, ORDERS_TASKS, async (run) => {
    const { ds, settings, tasks } = run;
    const etl = dataTasks(dag.defaultArgs, settings);

    const chosen = await tasks.run(
      'choose_source',
      async () => (source === 'db' ? 'wait_for_data' : 'wait_for_file'),
      (b) => ({ branch: b, source }),
    );
    tasks.skip(chosen === 'wait_for_data' ? 'wait_for_file' : 'wait_for_data');

    let extracted: ExtractResult;
    if (source === 'db') {
      await tasks.run(
        'wait_for_data',
        () => sqlSensor(ORDERS_ROWS, WAIT_FOR_DATA, run),
        (r) => ({ checks: r.checks }),
      );
      extracted = await tasks.run(
        'extract_from_db',
        () =>
          etl.extractFromDb.executeWithOptions({ summary: `extract_from_db: COPY source.orders of ${ds} on ${SOURCE_CONN_ID} into staging` }, [
            { ds, connId: SOURCE_CONN_ID },
          ]),
        extractOutput,
      );
    } else {
      // Runs started before wait_for_file existed replay without it.
      if (patched('orders-wait-for-file')) {
        await tasks.run(
          'wait_for_file',
          () => fileSensor(ORDERS_FILE, WAIT_FOR_FILE, run),
          (r) => ({ checks: r.checks }),
        );
      } else {
        tasks.remove('wait_for_file');
      }
      // Each call carries a one-line summary that the Web UI shows in the run's history.
      extracted = await tasks.run(
        'extract',
        () => etl.extract.executeWithOptions({ summary: `extract: read raw/orders_${ds}.csv under the orders contract into staging` }, [{ ds }]),
        extractOutput,
      );
    }
    const { rowCount } = extracted;

    const branch = await tasks.run(
      'check_data',
      async () => (rowCount > 0 ? 'transform' : 'send_empty_alert'),
      (b) => ({ branch: b }),
    );

    if (branch === 'send_empty_alert') {
      tasks.skip('transform');
      await tasks.run('send_empty_alert', () =>
        alerts.sendAlert.executeWithOptions({ summary: `send_empty_alert: no orders for ${ds}` }, [
          {
            dagId: dag.dagId,
            ds,
            to: dag.defaultArgs.email,
            subject: `[${dag.dagId}] no orders for ${ds}`,
            body: `extract staged 0 rows for ${ds}; transform, load, validate and dbt_run were skipped.`,
          },
        ]),
      );
      return { dagId: dag.dagId, ds, state: 'success_with_skips', rowCount, loadedRows: 0, rejectedRows: 0, models: [], tasks: tasks.list() };
    }

    tasks.skip('send_empty_alert');
    const transformed = await tasks.run(
      'transform',
      () =>
        etl.transform.executeWithOptions({ summary: `transform: one row per order_id of ${rowCount} records` }, [
          { ds, rowCount, stagedRows: extracted.stagedRows, stagedRejects: extracted.stagedRejects },
        ]),
      (r) => ({ cleanRows: r.cleanRows, rejectedRows: r.rejectedRows }),
    );
    // Write, audit, publish: load refuses a day with too many rejects and swaps in the audited one.
    const loaded = await tasks.run(
      'load',
      () =>
        etl.load.executeWithOptions({ summary: `load: audit and publish partition ds=${ds} of warehouse.orders` }, [
          { ds, rowCount, cleanRows: transformed.cleanRows, rejectedRows: transformed.rejectedRows, maxRejectedRatio },
        ]),
      (r) => ({ loadedRows: r.loadedRows, rejectedRows: r.rejectedRows }),
    );
    await tasks.run(
      'validate',
      () => etl.validate.executeWithOptions({ summary: `validate: 5 data checks on ds=${ds}` }, [{ ds, rowCount, lines: extracted.lines }]),
      (r) => ({ checksPassed: r.checksPassed }),
    );
    // conf {"skip_dbt": true} loads without rebuilding the models (backfills, benchmarks of the data path).
    let models: OrdersDailyEtlResult['models'] = [];
    if (run.conf.skip_dbt === true) {
      tasks.skip('dbt_run');
    } else {
      const dbtArgs = { ds, select: 'tag:orders', target: settings.dbtTarget };
      ({ models } = await tasks.run(
        'dbt_run',
        () => etl.dbtRun.executeWithOptions({ summary: `dbt_run: dbt run --select tag:orders --target ${settings.dbtTarget}` }, [dbtArgs]),
        (r) => Object.fromEntries(r.models.map((m) => [m.model, m.status])),
      ));
    }

    return {
      dagId: dag.dagId,
      ds,
      state: 'success',
      rowCount,
      loadedRows: loaded.loadedRows,
      rejectedRows: loaded.rejectedRows,
      models,
      tasks: tasks.list(),
    };
  });
}

/** extract's key output in the task table: records, and lines when the reader counted them. */
function extractOutput(r: ExtractResult): Record<string, number> {
  return { rowCount: r.rowCount, ...(r.stagedRejects !== undefined ? { rejected: r.stagedRejects } : {}), ...(r.lines ? { lines: r.lines.lines } : {}) };
}

/**
 * The share of rejected records a day may have: conf `max_rejected_ratio` (0 to 1) for one run
 * (a known-bad day loaded on purpose), else the DAG's, else 5%.
 */
function rejectedRatioLimit(dag: DagPolicy, conf: Record<string, unknown>): number {
  const value = conf.max_rejected_ratio;
  if (value === undefined) return dag.maxRejectedRatio ?? DEFAULT_MAX_REJECTED_RATIO;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw ApplicationFailure.nonRetryable(`${dag.dagId}: conf max_rejected_ratio must be a number from 0 to 1, got ${JSON.stringify(value)}`, 'InvalidInput');
  }
  return value;
}

/** The run's source: `source` in the input, or in its conf (`--conf '{"source":"db"}'`); the file by default. */
function ordersSource(dag: DagPolicy, input: Partial<OrdersDailyEtlInput> | undefined): OrdersSource {
  const value = input?.source ?? (input?.conf as { source?: unknown } | undefined)?.source ?? 'file';
  if (!ORDERS_SOURCES.includes(value as OrdersSource)) {
    throw ApplicationFailure.nonRetryable(`${dag.dagId}: source must be one of ${ORDERS_SOURCES.join(', ')}, got ${JSON.stringify(value)}`, 'InvalidInput');
  }
  return value as OrdersSource;
}
