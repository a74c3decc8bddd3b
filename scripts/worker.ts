/**
 * `npm run worker`: one worker in the foreground (scale out by running more, anywhere).
 * `--workflow-bundle <file>` takes workflows bundled ahead of time (src/build.ts).
 */
import { Command } from 'commander';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { runWorker } from '../src/worker';

const opts = new Command('worker')
  .option('--workflow-bundle <file>', 'workflows bundled ahead of time, instead of bundling workflows/ at start')
  .parse(process.argv)
  .opts<{ workflowBundle?: string }>();
const config = loadConfig();
const logger = createLogger(config.logLevel, 'baton-worker');
runWorker(config, logger, opts.workflowBundle ? { workflowBundle: { codePath: opts.workflowBundle } } : {}).catch((err: Error) => {
  logger.fatal({ err }, 'worker stopped');
  process.exit(1);
});
