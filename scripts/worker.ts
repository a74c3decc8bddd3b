import { loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { runWorker } from '../src/worker';

const config = loadConfig();
const logger = createLogger(config.logLevel, 'baton-worker');
runWorker(config, logger).catch((err: Error) => {
  logger.fatal({ err }, 'worker stopped');
  process.exit(1);
});
