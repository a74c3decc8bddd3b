/**
 * A worker for the sensor probe workflows (test/workflow/sensor-probe.ts) with the real sensor
 * activities, on a task queue of its own, so a test can SIGKILL it mid-poke without the
 * production worker ever taking its tasks. The production bundle has no poke-mode sensor.
 *
 *   node --import tsx test/integration/sensor-probe-worker.ts <task queue> <workflow bundle file>
 *
 * Prints `sensor probe worker ready` once it polls. Stops when its stdin closes, so a test
 * runner that dies never leaves it polling.
 */
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createSensorActivities } from '../../activities/sensors';
import { loadConfig } from '../../src/config';

async function main(taskQueue: string, codePath: string) {
  const config = loadConfig();
  // The SDK's warnings and errors only, and no metrics port that could clash with a real worker's.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  const pool = new Pool({ connectionString: config.databaseUrl, max: 1 });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowBundle: { codePath },
    activities: createSensorActivities({ config, pool }),
    // A killed worker's sticky queue holds the next workflow task this long before it goes to any worker.
    stickyQueueScheduleToStartTimeout: '1s',
  });
  process.stdin.on('end', () => worker.shutdown());
  process.stdin.resume();
  const running = worker.run();
  process.stdout.write('sensor probe worker ready\n');
  try {
    await running;
  } finally {
    await connection.close();
    await pool.end();
  }
}

const [taskQueue, codePath] = process.argv.slice(2);
if (!taskQueue || !codePath) {
  process.stderr.write('usage: sensor-probe-worker.ts <task queue> <workflow bundle file>\n');
  process.exit(2);
}
main(taskQueue, codePath).catch((err: Error) => {
  process.stderr.write(`sensor probe worker failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
