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
import { branch, dag, fileSensor, firstOf, notify, optional, ownTasks, result, sqlSensor, z } from 'baton/sdk';

const own = ownTasks<typeof import('./activities')>();

/** extract's key output in the task table: records, rejects and the file's lines. */
const extractSummary = (r: Awaited<ReturnType<typeof import('./activities').extract>>) => ({
  rowCount: r.rowCount,
  ...(r.stagedRejects !== undefined ? { rejected: r.stagedRejects } : {}),
  ...(r.lines ? { lines: r.lines.lines } : {}),
});

export default dag(
  {
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
  },
  ({ ds, params }) => {
    const chooseSource = branch('choose_source', {
      inputs: { source: params.source },
      choose: ({ source }) => (source === 'db' ? 'wait_for_data' : 'wait_for_file'),
    });
    // Airflow's FileSensor(poke_interval=300, timeout=3600, mode="reschedule").
    const fileReady = fileSensor('wait_for_file', {
      upstream: [chooseSource],
      path: `raw/orders_${ds}.csv`,
      mode: 'reschedule',
      pokeInterval: '300s',
      timeout: '3600s',
    });
    const extract = own.extract('extract', {
      upstream: [fileReady],
      doc: `read raw/orders_${ds}.csv under the orders contract into staging`,
      args: { ds },
      summary: extractSummary,
    });
    // Airflow's SqlSensor(conn_id="postgres_prod", mode="reschedule", poke_interval=600), its default 7-day timeout.
    const dataReady = sqlSensor('wait_for_data', {
      upstream: [chooseSource],
      conn: 'postgres_prod',
      sql: `SELECT COUNT(*) FROM source.orders WHERE date = ${ds}`,
      mode: 'reschedule',
      pokeInterval: '600s',
      timeout: '7d',
    });
    const extractFromDb = own.extractFromDb('extract_from_db', {
      upstream: [dataReady],
      doc: `COPY source.orders of ${ds} on postgres_prod into staging`,
      args: { ds, connId: 'postgres_prod' },
      summary: extractSummary,
    });
    // What the extract that ran staged (the file's or the database's).
    const staged = firstOf(extract, extractFromDb);
    const checkData = branch('check_data', {
      inputs: { staged },
      triggerRule: 'none_failed_min_one_success',
      choose: ({ staged }) => (staged.rowCount > 0 ? 'transform' : 'send_empty_alert'),
    });
    const transform = own.transform('transform', {
      upstream: [checkData],
      doc: 'one row per order_id of the records staged',
      args: { ds, rowCount: staged.rowCount, stagedRows: staged.stagedRows, stagedRejects: staged.stagedRejects, keyCandidates: staged.keyCandidates },
      summary: (r) => ({ cleanRows: r.cleanRows, rejectedRows: r.rejectedRows }),
    });
    // Write, audit, publish: load refuses a day with too many rejects and swaps in the audited one.
    const load = own.load('load', {
      doc: `audit and publish partition ds=${ds} of warehouse.orders`,
      args: {
        ds,
        rowCount: staged.rowCount,
        cleanRows: transform.cleanRows,
        rejectedRows: transform.rejectedRows,
        maxRejectedRatio: params.max_rejected_ratio,
      },
      summary: (r) => ({ loadedRows: r.loadedRows, rejectedRows: r.rejectedRows }),
    });
    const validate = own.validate('validate', {
      upstream: [load],
      doc: `5 data checks on ds=${ds}`,
      args: { ds, rowCount: staged.rowCount, lines: staged.lines },
    });
    const dbtRun = own.dbtRun('dbt_run', {
      upstream: [validate],
      doc: "dbt run --select tag:orders on the worker's target",
      inputs: { skipDbt: params.skip_dbt },
      skipIf: ({ skipDbt }) => skipDbt && 'conf skip_dbt',
      args: { ds, select: 'tag:orders' },
      summary: (r) => Object.fromEntries(r.models.map((m) => [m.model, m.status])),
    });
    notify('send_empty_alert', {
      upstream: [checkData],
      to: ['alerts@company.com'],
      subject: `[orders_daily_etl] no orders for ${ds}`,
      body: `extract staged 0 rows for ${ds}; transform, load, validate and dbt_run were skipped.`,
    });
    return result({ staged, loaded: optional(load), dbt: optional(dbtRun) }, ({ staged, loaded, dbt }, run) => ({
      // The empty day's alert is a skip worth seeing; the source not taken and skip_dbt are not.
      state: run.states.send_empty_alert === 'success' ? 'success_with_skips' : 'success',
      // The DAG's notifiers that chose `empty` are told of it.
      empty: run.states.send_empty_alert === 'success',
      rowCount: staged.rowCount,
      loadedRows: loaded?.loadedRows ?? 0,
      rejectedRows: loaded?.rejectedRows ?? 0,
      models: dbt?.models ?? [],
    }));
  },
);
