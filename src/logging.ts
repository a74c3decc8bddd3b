import { DefaultLogger, LogLevel, Runtime, makeTelemetryFilterString, type LogMetadata } from '@temporalio/worker';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line. */
const REDACT = ['password', 'databaseUrl', 'DATABASE_URL', 'smtpUrl', 'SMTP_URL', 'connections', '*.connections', '*.password', '*.databaseUrl', '*.smtpUrl', 'config.databaseUrl'];

export function createLogger(level: string, name = 'baton'): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '***' } });
}

const pinoLevel: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/**
 * Routes the Temporal SDK's logs (worker, workflow and activity loggers, and Core) through
 * pino. Runtime.install may run once per process.
 */
export function installRuntimeLogger(logger: Logger): void {
  if (installed) return;
  installed = true;
  const level = (logger.level === 'silent' ? 'ERROR' : logger.level.toUpperCase()) as LogLevel;
  const sdkLevel: LogLevel = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'INFO';
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, (entry) => {
      const meta: LogMetadata = entry.meta ?? {};
      logger[pinoLevel[entry.level]](meta, entry.message);
    }),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
    },
  });
}
