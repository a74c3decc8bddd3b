import { DefaultLogger, LogLevel, Runtime, makeTelemetryFilterString, type LogMetadata } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import pino, { type Logger } from 'pino';
import { MetricNames, TASK_DURATION_BUCKETS_SECONDS } from './contracts';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line. */
const REDACT = [
  'password',
  'databaseUrl',
  'DATABASE_URL',
  'smtpUrl',
  'SMTP_URL',
  'connections',
  'apiKey',
  'TEMPORAL_API_KEY',
  '*.connections',
  '*.password',
  '*.databaseUrl',
  '*.smtpUrl',
  '*.apiKey',
  'config.databaseUrl',
  '*.temporal.apiKey',
];

/** Baton's logger: JSON lines on stdout (or `destination`), secrets masked. */
export function createLogger(level: string, name = 'baton', destination?: pino.DestinationStream): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '***' } }, destination);
}

const pinoLevel: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/** `host:port` for config.metrics, IPv6 hosts in brackets. */
function bindAddress({ host, port }: { host: string; port: number }): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where Prometheus scrapes the worker. */
export function metricsUrl(metrics: { host: string; port: number }): string {
  return `http://${bindAddress(metrics)}/metrics`;
}

/**
 * Installs the Temporal Runtime, before any connection or worker exists: routes the SDK's
 * logs (worker, workflow and activity loggers, and Core) through pino and, given `metrics`,
 * serves Temporal's runtime metrics and Baton's own (MetricNames) for Prometheus on one port.
 * Runtime.install may run once per process.
 */
export function installRuntimeLogger(logger: Logger, metrics?: { host: string; port: number }): void {
  if (installed) return;
  const level = (logger.level === 'silent' ? 'ERROR' : logger.level.toUpperCase()) as LogLevel;
  const sdkLevel: LogLevel = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'INFO';
  const prometheus = metrics && {
    bindAddress: bindAddress(metrics),
    histogramBucketOverrides: { [MetricNames.taskDuration]: TASK_DURATION_BUCKETS_SECONDS },
  };
  try {
    Runtime.install({
      logger: new DefaultLogger(sdkLevel, (entry) => {
        const meta: LogMetadata = entry.meta ?? {};
        logger[pinoLevel[entry.level]](meta, entry.message);
      }),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
        ...(prometheus && { metrics: { prometheus } }),
      },
    });
  } catch (err) {
    // Core binds the metrics port inside install; a port in use is the usual cause.
    if (!prometheus) throw err;
    throw new Error(`cannot serve metrics on ${prometheus.bindAddress}: ${(err as Error).message}; set BATON_METRICS_PORT to a free port, or off`);
  }
  installed = true;
}

/**
 * The logger with the current activity's workflow id, run id, activity type and attempt, so a
 * task's log lines can be found by run (Prefect's get_run_logger); the plain logger outside one.
 */
export function withActivityContext(logger: Logger): Logger {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return logger;
  }
  return logger.child({
    workflowId: info.workflowExecution?.workflowId,
    runId: info.workflowExecution?.runId,
    activity: info.activityType,
    attempt: info.attempt,
  });
}
