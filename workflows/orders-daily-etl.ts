/**
 * orders_daily_etl, ported from Airflow:
 *   extract >> check_data >> [transform >> load >> validate >> dbt_run | send_empty_alert]
 */
import { patched, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { OrdersDailyEtlInput, OrdersDailyEtlResult, RunSettings } from '../src/contracts';
import { ordersDailyEtlDag as dag, type DefaultArgs } from '../src/dags';
import { alerts, runDag } from './dag';
import { fileSensor, type FileSensorSpec, type SensorOptions } from './sensors';

const TASKS = ['wait_for_file', 'extract', 'check_data', 'transform', 'load', 'validate', 'dbt_run', 'send_empty_alert'] as const;

/** Airflow's FileSensor(filepath=".../orders_{{ ds }}.csv", poke_interval=300, timeout=3600, mode="reschedule"). */
const ORDERS_FILE: FileSensorSpec = { pathTemplate: 'raw/orders_{{ ds }}.csv', settle: '5s' };
const WAIT_FOR_FILE: SensorOptions = { mode: 'reschedule', pokeInterval: '300s', timeout: '3600s' };

export async function ordersDailyEtl(input?: Partial<OrdersDailyEtlInput>): Promise<OrdersDailyEtlResult> {
  return runDag(dag, input, TASKS, async (run) => {
    const { ds, settings, tasks } = run;
    const etl = etlTasks(dag.defaultArgs, settings);

    // Runs started before wait_for_file existed replay without it.
    if (patched('orders-wait-for-file')) {
      await tasks.run('wait_for_file', () => fileSensor(ORDERS_FILE, WAIT_FOR_FILE, run), (r) => ({ checks: r.checks }));
    } else {
      tasks.skip('wait_for_file');
    }

    // Each call carries a one-line summary that the Web UI shows in the run's history.
    const { rowCount } = await tasks.run('extract', () => etl.extract.executeWithOptions({ summary: `extract: COPY raw/orders_${ds}.csv into staging` }, [{ ds }]), (r) => ({ rowCount: r.rowCount }));
    const branch = await tasks.run('check_data', async () => (rowCount > 0 ? 'transform' : 'send_empty_alert'), (b) => ({ branch: b }));

    if (branch === 'send_empty_alert') {
      tasks.skip('transform', 'load', 'validate', 'dbt_run');
      await tasks.run('send_empty_alert', () =>
        alerts.sendAlert.executeWithOptions({ summary: `send_empty_alert: no orders for ${ds}` }, [{
          dagId: dag.dagId,
          ds,
          to: dag.defaultArgs.email,
          subject: `[${dag.dagId}] no orders for ${ds}`,
          body: `extract staged 0 rows for ${ds}; transform, load, validate and dbt_run were skipped.`,
        }]),
      );
      return { dagId: dag.dagId, ds, state: 'success_with_skips', rowCount, loadedRows: 0, rejectedRows: 0, models: [], tasks: tasks.list() };
    }

    tasks.skip('send_empty_alert');
    await tasks.run('transform', () => etl.transform.executeWithOptions({ summary: `transform: type and check ${rowCount} rows in SQL` }, [{ ds, rowCount }]), (r) => ({ cleanRows: r.cleanRows, rejectedRows: r.rejectedRows }));
    const loaded = await tasks.run('load', () => etl.load.executeWithOptions({ summary: `load: replace partition ds=${ds} of warehouse.orders` }, [{ ds }]), (r) => ({ loadedRows: r.loadedRows, rejectedRows: r.rejectedRows }));
    await tasks.run('validate', () => etl.validate.executeWithOptions({ summary: `validate: 5 data checks on ds=${ds}` }, [{ ds, rowCount }]), (r) => ({ checksPassed: r.checksPassed }));
    const dbtArgs = { ds, select: 'tag:orders', target: settings.dbtTarget };
    const dbt = await tasks.run('dbt_run', () => etl.dbtRun.executeWithOptions({ summary: `dbt_run: dbt run --select tag:orders --target ${settings.dbtTarget}` }, [dbtArgs]), (r) =>
      Object.fromEntries(r.models.map((m) => [m.model, m.status])),
    );

    return {
      dagId: dag.dagId,
      ds,
      state: 'success',
      rowCount,
      loadedRows: loaded.loadedRows,
      rejectedRows: loaded.rejectedRows,
      models: dbt.models,
      tasks: tasks.list(),
    };
  });
}

/** default_args `retries=2, retry_delay=5m` as a Temporal retry policy: 3 attempts, fixed 5 minutes apart. */
export function retryPolicyFor(args: DefaultArgs, settings: RunSettings): RetryPolicy {
  const interval = (settings.retryDelay ?? args.retryDelay) as Duration;
  return {
    maximumAttempts: settings.maximumAttempts ?? args.retries + 1,
    initialInterval: interval,
    maximumInterval: interval,
    backoffCoefficient: 1,
  };
}

function etlTasks(args: DefaultArgs, settings: RunSettings) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '2h',
    heartbeatTimeout: '2m',
    retry: retryPolicyFor(args, settings),
  });
}
