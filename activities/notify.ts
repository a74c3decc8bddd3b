/**
 * Webhook notifiers: a JSON payload posted to a named connection (`BATON_CONN_<NAME>`, its URL
 * the hook's, credentials in it sent as basic auth), with a Slack-compatible `text`. The URL is a
 * secret (a Slack hook's token is its path): it never reaches a log line, an error or a payload,
 * and the secrets of every connection are masked in what the payload quotes.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { Config } from '../src/config';
import type { NotifierInput, NotifierResult } from '../src/contracts';
import { webUiRunUrl } from '../src/client';

export interface NotifyDeps {
  logger: Logger;
  config: Pick<Config, 'connections' | 'webUiUrl' | 'temporal' | 'databaseUrl' | 'mail'>;
}

/** What a webhook is sent (besides `text`, all machine-readable). */
export interface WebhookPayload {
  text: string;
  event: string;
  dag: string;
  ds: string;
  ts?: string;
  task: string | null;
  state: string;
  error: string | null;
  /** The run's page in the Temporal Web UI. */
  link: string | null;
  run: { workflowId: string; runId: string } | null;
}

/** Every secret a text might quote: each connection's URL (named instead) and the passwords and tokens in them. */
export function secretMasker(config: Pick<Config, 'mail'> & Partial<Pick<Config, 'connections' | 'databaseUrl'>>): (text: string) => string {
  const urls: Array<[string, string]> = [
    ...Object.entries(config.connections ?? {}).map(([name, url]): [string, string] => [url, `BATON_CONN_${name.toUpperCase()}`]),
    ...(config.databaseUrl ? [[config.databaseUrl, 'DATABASE_URL'] as [string, string]] : []),
    ...(config.mail.smtpUrl ? [[config.mail.smtpUrl, 'SMTP_URL'] as [string, string]] : []),
  ];
  const secrets = new Set<string>();
  for (const [url] of urls) {
    try {
      const parsed = new URL(url);
      // A token may be the password, the user name when there is no password (https://TOKEN@host), the path or the query.
      const user = parsed.password ? '' : parsed.username;
      for (const part of [
        parsed.password,
        decodeURIComponent(parsed.password),
        user,
        parsed.pathname.length > 12 ? parsed.pathname : '',
        parsed.search.slice(1),
      ])
        if (part && part.length >= 4) secrets.add(part);
    } catch {
      // not a URL: masked whole below
    }
  }
  return (text) => {
    let out = text;
    for (const [url, name] of urls.sort((a, b) => b[0].length - a[0].length)) out = out.split(url).join(name);
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
    // Any other URL's credentials.
    return out.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/\s@]+):[^@\s/]+@/gi, '$1:***@');
  };
}

export function createNotifierActivities({ logger, config }: NotifyDeps) {
  const mask = secretMasker(config);

  async function notifyWebhook(input: NotifierInput): Promise<NotifierResult> {
    const base = config.connections[input.conn];
    if (!base)
      throw ApplicationFailure.nonRetryable(
        `unknown connection ${JSON.stringify(input.conn)}: set BATON_CONN_${input.conn.toUpperCase()} to the webhook's URL`,
        'BadConnection',
      );
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw ApplicationFailure.nonRetryable(`connection ${input.conn} is not a URL`, 'BadConnection');
    }
    if (!/^https?:$/.test(url.protocol)) throw ApplicationFailure.nonRetryable(`connection ${input.conn} is ${url.protocol}, not http(s)`, 'BadConnection');
    const auth = url.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
    url.username = '';
    url.password = '';
    const { workflowExecution } = Context.current().info;
    const run = workflowExecution ? { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId } : null;
    const link = run ? webUiRunUrl(config, run.workflowId, run.runId) : null;
    const error = input.error === undefined ? null : mask(input.error);
    const where = `${input.dagId} ${input.ts ?? input.ds}${input.taskId ? ` ${input.taskId}` : ''}`;
    const payload: WebhookPayload = {
      text: mask(`[${input.event}] ${where}: ${input.message}${error && !input.message.includes(error) ? `: ${error}` : ''}${link ? ` <${link}|run>` : ''}`),
      event: input.event,
      dag: input.dagId,
      ds: input.ds,
      ...(input.ts ? { ts: input.ts } : {}),
      task: input.taskId ?? null,
      state: input.state,
      error,
      link,
      run,
    };
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      // The cause (refused, timed out) without the URL.
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw ApplicationFailure.retryable(`webhook ${input.conn}: ${cause}`, 'WebhookUnreachable');
    }
    await response.arrayBuffer().catch(() => undefined);
    logger.info(
      { conn: input.conn, event: input.event, dagId: input.dagId, ds: input.ts ?? input.ds, task: input.taskId, status: response.status },
      'webhook notified',
    );
    if (response.ok) return { status: response.status };
    const retry = response.status >= 500 || response.status === 429;
    const message = `webhook ${input.conn} answered ${response.status}`;
    throw retry ? ApplicationFailure.retryable(message, 'WebhookRefused') : ApplicationFailure.nonRetryable(message, 'WebhookRefused');
  }

  return { notifyWebhook };
}
