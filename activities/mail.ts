/**
 * Alerts: Airflow's `email_on_failure` and the empty-data alert. Until SMTP is configured an
 * alert is a structured warning in the worker's log, so no alert is ever silently dropped.
 */
import type { Logger } from 'pino';
import type { AlertInput, AlertResult } from '../src/contracts';

export interface MailDeps {
  logger: Logger;
}

export function createMailActivities({ logger }: MailDeps) {
  async function sendAlert({ dagId, ds, subject, body, to }: AlertInput): Promise<AlertResult> {
    logger.warn({ alert: true, dagId, ds, to, subject, body }, `alert: ${subject}`);
    return { delivered: 'logged' };
  }
  return { sendAlert };
}
