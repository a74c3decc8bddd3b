/**
 * Alerts by mail: Airflow's `email_on_failure` and the empty-data alert, through real SMTP
 * (nodemailer, `SMTP_URL`). Without SMTP configured an alert is a structured warning in the
 * worker's log (the worker warns once at start), so no alert is ever silently dropped.
 */
import { Context } from '@temporalio/activity';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '../src/config';
import type { AlertInput, AlertResult } from '../src/contracts';
import { webUiRunUrl } from '../src/client';
import { secretMasker } from './notify';

export interface MailDeps {
  logger: Logger;
  config: Pick<Config, 'mail' | 'webUiUrl' | 'temporal'> & Partial<Pick<Config, 'connections' | 'databaseUrl'>>;
}

/** The Web UI page of the run that sent the alert, when called from a workflow's activity. */
function callingRunUrl(config: MailDeps['config']): string | undefined {
  try {
    const { workflowExecution } = Context.current().info;
    return workflowExecution ? webUiRunUrl(config, workflowExecution.workflowId, workflowExecution.runId) : undefined;
  } catch {
    return undefined;
  }
}

export function createMailActivities({ logger, config }: MailDeps) {
  let transport: Transporter | undefined;
  const smtp = () => (transport ??= nodemailer.createTransport(config.mail.smtpUrl));

  // A task's error quoted in an alert may carry a connection's secret: masked before it is logged or mailed.
  const mask = secretMasker(config);

  async function sendAlert({ dagId, ds, subject: given, body, to }: AlertInput): Promise<AlertResult> {
    const url = callingRunUrl(config);
    const subject = mask(given);
    const text = mask(url ? `${body}\n\nWeb UI: ${url}\n` : `${body}\n`);
    if (!config.mail.smtpUrl || to.length === 0) {
      logger.warn({ alert: true, dagId, ds, to, subject, body: text }, `alert: ${subject}`);
      return { delivered: 'logged' };
    }
    // A refused connection or a 4xx reply is worth retrying; the activity's retry policy does it.
    const info = await smtp().sendMail({ from: config.mail.from, to, subject, text });
    logger.info({ dagId, ds, to, subject, messageId: info.messageId }, 'alert mailed');
    return { delivered: 'mailed' };
  }

  return { sendAlert };
}
