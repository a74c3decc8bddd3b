/**
 * A worker for one benchmark scenario: the real worker (createWorker) on a task queue of the
 * scenario's own, with a set number of activity slots and a pre-built workflow bundle.
 *
 *   node <bench/worker.ts compiled> <task queue> <activity slots> <workflow bundle file>
 *
 * Prints `bench worker ready` once it polls; drains and exits on SIGTERM or when stdin closes.
 */
import { createNoopActivities } from '../activities/noop';
import { loadConfig } from '../src/config';
import { loadUserActivities } from '../src/dag-files';
import { ordersDailyEtlDag } from '../test/support/reference-dags';
import { userActivityType } from '../src/sdk/compile';
import { benchOrdersDag } from './backfill-dag';
import { createLogger } from '../src/logging';
import { createWorker } from '../src/worker';
import { ENGINE_DAGS, engineMapped, LIST_ACTIVITY, NOOP_ACTIVITY } from './engine-dags';

async function main(taskQueue: string, slots: number, codePath: string) {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // The engine's no-op DAGs' task (the same no-op activity noopDag calls), and orders_daily_etl's
  // own tasks under the backfill benchmark's dag id.
  const { noopTask } = createNoopActivities();
  const noops = {
    ...Object.fromEntries(ENGINE_DAGS.map((d) => [userActivityType(d.dagId, NOOP_ACTIVITY), noopTask])),
    // The mapping scenario's list: n item numbers.
    [userActivityType(engineMapped.dagId, LIST_ACTIVITY)]: async (input: { args: { n: number } }) => Array.from({ length: input.args.n }, (_, i) => i),
  };
  const { worker, close } = await createWorker(config, logger, {
    taskQueue,
    workflowBundle: { codePath },
    maxConcurrentActivityTaskExecutions: slots,
    activities: (context, dags) => ({
      ...(noops as Record<string, (input: never) => Promise<unknown>>),
      ...Object.fromEntries(
        Object.entries(
          loadUserActivities(
            dags.find((d) => d.dag.dagId === ordersDailyEtlDag.dagId)!,
            context,
          ),
        ).map(([type, fn]) => [type.replace(`${ordersDailyEtlDag.dagId}.`, `${benchOrdersDag.dagId}.`), fn]),
      ),
    }),
  });
  process.stdin.on('end', () => worker.shutdown());
  process.stdin.resume();
  const running = worker.run();
  process.stdout.write('bench worker ready\n');
  try {
    await running;
  } finally {
    await close();
    process.stdin.destroy(); // it kept the process alive after the worker drained
  }
}

const [taskQueue, slots, codePath] = process.argv.slice(2);
if (!taskQueue || !Number(slots) || !codePath) {
  process.stderr.write('usage: bench/worker.ts <task queue> <activity slots> <workflow bundle file>\n');
  process.exit(2);
}
main(taskQueue, Number(slots), codePath).catch((err: Error) => {
  process.stderr.write(`bench worker failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
