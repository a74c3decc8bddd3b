/**
 * orders_daily_etl, the Airflow DAG as a Baton DAG file:
 *   choose_source >> [wait_for_file >> extract, wait_for_data >> extract_from_db]
 *     >> check_data >> [transform >> load >> validate >> dbt_run, send_empty_alert]
 * choose_source follows conf `source` (the file by default); check_data joins the two paths
 * with none_failed_min_one_success, so the path not taken is skipped, and branches on the
 * records extract staged. The data steps are this DAG's own tasks (activities.ts beside this
 * file): COPY into staging, SQL, and a write-audit-publish of the day's partition.
 *
 *   temporal workflow start --type ordersDailyEtl --task-queue etl --workflow-id orders_daily_etl-2024-01-15 --input '{"ds":"2024-01-15"}'
 */
import { branch, dag, fileSensor, notify, sqlSensor, task, z, type RunContext } from '../../../src/sdk';
import type { DbtRunResult, ExtractResult, LoadResult, TransformResult } from '../../../src/contracts';

/** What the extract that ran staged (the file's or the database's). */
const staged = (run: RunContext) => (run.xcom.extract ?? run.xcom.extract_from_db) as ExtractResult;
const transformed = (run: RunContext) => run.xcom.transform as TransformResult;
const loaded = (run: RunContext) => run.xcom.load as LoadResult | undefined;

/** extract's key output in the task table: records, rejects and the file's lines. */
const extractSummary = (r: ExtractResult) => ({
  rowCount: r.rowCount,
  ...(r.stagedRejects !== undefined ? { rejected: r.stagedRejects } : {}),
  ...(r.lines ? { lines: r.lines.lines } : {}),
});

export default dag({
  dagId: 'orders_daily_etl',
  workflowType: 'ordersDailyEtl',
  description: 'Daily orders ETL pipeline',
  schedule: '0 6 * * *',
  startDate: '2024-01-01',
  catchup: false,
  maxActiveRuns: 1,
  tags: ['etl', 'orders', 'daily'],
  params: z.object({
    /** `db` waits for and extracts the day's rows of source.orders on postgres_prod. */
    source: z.enum(['file', 'db']).default('file'),
    /** The share of a day's records that may be rejected before the day is refused. */
    max_rejected_ratio: z.number().min(0).max(1).default(0.05),
    /** Load without rebuilding the models (backfills, benchmarks of the data path). */
    skip_dbt: z.boolean().default(false),
  }),
  defaultArgs: { owner: 'data-team', email: ['alerts@company.com'], emailOnFailure: true, retries: 2, retryDelay: '5m', executionTimeout: '2h' },
  tasks: {
    choose_source: branch({ choose: (run) => (run.params.source === 'db' ? 'wait_for_data' : 'wait_for_file') }),
    // Airflow's FileSensor(poke_interval=300, timeout=3600, mode="reschedule").
    wait_for_file: fileSensor({ upstream: ['choose_source'], path: 'raw/orders_{{ ds }}.csv', mode: 'reschedule', pokeInterval: '300s', timeout: '3600s' }),
    extract: task({
      upstream: ['wait_for_file'],
      activity: 'extract',
      doc: 'read raw/orders_{{ ds }}.csv under the orders contract into staging',
      args: { ds: '{{ ds }}' },
      summary: extractSummary,
    }),
    // Airflow's SqlSensor(conn_id="postgres_prod", mode="reschedule", poke_interval=600), its default 7-day timeout.
    wait_for_data: sqlSensor({
      upstream: ['choose_source'],
      conn: 'postgres_prod',
      sql: 'SELECT COUNT(*) FROM source.orders WHERE date = {{ ds }}',
      mode: 'reschedule',
      pokeInterval: '600s',
      timeout: '7d',
    }),
    extract_from_db: task({
      upstream: ['wait_for_data'],
      activity: 'extractFromDb',
      doc: 'COPY source.orders of {{ ds }} on postgres_prod into staging',
      args: { ds: '{{ ds }}', connId: 'postgres_prod' },
      summary: extractSummary,
    }),
    check_data: branch({
      upstream: ['extract', 'extract_from_db'],
      triggerRule: 'none_failed_min_one_success',
      choose: (run) => (staged(run).rowCount > 0 ? 'transform' : 'send_empty_alert'),
    }),
    transform: task({
      upstream: ['check_data'],
      activity: 'transform',
      doc: 'one row per order_id of the records staged',
      args: (run) => ({ ds: run.ds, rowCount: staged(run).rowCount, stagedRows: staged(run).stagedRows, stagedRejects: staged(run).stagedRejects }),
      summary: (r: TransformResult) => ({ cleanRows: r.cleanRows, rejectedRows: r.rejectedRows }),
    }),
    // Write, audit, publish: load refuses a day with too many rejects and swaps in the audited one.
    load: task({
      upstream: ['transform'],
      activity: 'load',
      doc: 'audit and publish partition ds={{ ds }} of warehouse.orders',
      args: (run) => ({
        ds: run.ds,
        rowCount: staged(run).rowCount,
        cleanRows: transformed(run).cleanRows,
        rejectedRows: transformed(run).rejectedRows,
        maxRejectedRatio: run.params.max_rejected_ratio,
      }),
      summary: (r: LoadResult) => ({ loadedRows: r.loadedRows, rejectedRows: r.rejectedRows }),
    }),
    validate: task({
      upstream: ['load'],
      activity: 'validate',
      doc: '5 data checks on ds={{ ds }}',
      args: (run) => ({ ds: run.ds, rowCount: staged(run).rowCount, lines: staged(run).lines }),
    }),
    dbt_run: task({
      upstream: ['validate'],
      activity: 'dbtRun',
      doc: "dbt run --select tag:orders on the worker's target",
      skipIf: (run) => run.params.skip_dbt === true && 'conf skip_dbt',
      args: { ds: '{{ ds }}', select: 'tag:orders' },
      summary: (r: Partial<DbtRunResult>) => Object.fromEntries((r.models ?? []).map((m) => [m.model, m.status])),
    }),
    send_empty_alert: notify({
      upstream: ['check_data'],
      to: ['alerts@company.com'],
      subject: '[orders_daily_etl] no orders for {{ ds }}',
      body: 'extract staged 0 rows for {{ ds }}; transform, load, validate and dbt_run were skipped.',
    }),
  },
  result: (run) => ({
    // The empty day's alert is a skip worth seeing; the source not taken and skip_dbt are not.
    state: run.states.send_empty_alert === 'success' ? 'success_with_skips' : 'success',
    rowCount: staged(run).rowCount,
    loadedRows: loaded(run)?.loadedRows ?? 0,
    rejectedRows: loaded(run)?.rejectedRows ?? 0,
    models: (run.xcom.dbt_run as Partial<DbtRunResult> | undefined)?.models ?? [],
  }),
});
