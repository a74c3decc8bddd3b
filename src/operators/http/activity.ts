/**
 * The `http` operator's activity: a call on a named connection (BATON_CONN_<NAME> is its base
 * URL, with credentials in it if it needs them: they are sent as basic auth and never logged).
 * The path stays under the connection's URL. The expected statuses succeed (2xx by default); 5xx,
 * 429 and a lost connection are retried as the task's retries say; any other status fails at
 * once. At most 1 MiB of the response is read; its JSON becomes the output when it fits XCom.
 */
import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal, cancelledError, whileHeartbeating } from '../../data/heartbeat';
import type { OperatorInput } from '../common';

export interface HttpOperatorInput extends OperatorInput {
  conn: string;
  method: string;
  path: string;
  json?: unknown;
  /** Statuses that count as success; empty: any 2xx. */
  expectStatus: number[];
}

export interface HttpOperatorResult {
  status: number;
  bytes: number;
  /** The response's JSON when it is small enough for XCom. */
  json?: unknown;
}

export const MAX_RESPONSE_BYTES = 1 << 20;
/** A JSON response larger than this is not kept as the task's output (its size is). */
export const MAX_JSON_OUTPUT_BYTES = 8 * 1024;

function target(base: string, relative: string, conn: string): { url: URL; auth?: string } {
  let url: URL;
  let root: URL;
  try {
    root = new URL(base);
    url = new URL(root.pathname.replace(/\/$/, '') + relative, root);
  } catch {
    throw ApplicationFailure.nonRetryable(`http: connection ${conn} is not a URL, or ${relative} does not make one with it`, 'BadConnection');
  }
  if (!/^https?:$/.test(root.protocol)) throw ApplicationFailure.nonRetryable(`http: connection ${conn} is ${root.protocol}, not http(s)`, 'BadConnection');
  if (url.origin !== root.origin || !url.pathname.startsWith(root.pathname.replace(/\/$/, ''))) {
    throw ApplicationFailure.nonRetryable(`http: path ${relative} leaves connection ${conn}'s URL`, 'PathOutsideConnection');
  }
  const auth = root.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(root.username)}:${decodeURIComponent(root.password)}`).toString('base64')}`
    : undefined;
  url.username = '';
  url.password = '';
  return { url, ...(auth ? { auth } : {}) };
}

async function readCapped(response: Response): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response.body ?? []) {
    bytes += chunk.length;
    if (bytes > MAX_RESPONSE_BYTES)
      throw ApplicationFailure.nonRetryable(`http: the response is over ${MAX_RESPONSE_BYTES} bytes; return a reference instead`, 'ResponseTooLarge');
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

export function createHttpOperator(connections: Record<string, string>) {
  return async function operatorHttp(input: HttpOperatorInput): Promise<HttpOperatorResult> {
    const base = connections[input.conn];
    if (!base)
      throw ApplicationFailure.nonRetryable(
        `unknown connection ${JSON.stringify(input.conn)}: set BATON_CONN_${input.conn.toUpperCase()} to its URL`,
        'UnknownConnection',
      );
    const { url, auth } = target(base, input.path, input.conn);
    const signal = cancellationSignal();
    const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5', 'user-agent': 'baton' };
    if (auth) headers.authorization = auth;
    if (input.json !== undefined) headers['content-type'] = 'application/json';
    const where = `${input.method} ${url.origin}${url.pathname}`;
    let response: Response;
    let body: Buffer;
    try {
      ({ response, body } = await whileHeartbeating(
        (async () => {
          const r = await fetch(url, {
            method: input.method,
            headers,
            body: input.json === undefined ? undefined : JSON.stringify(input.json),
            signal,
            redirect: 'manual',
          });
          return { response: r, body: await readCapped(r) };
        })(),
      ));
    } catch (err) {
      if (signal.aborted) throw cancelledError(signal);
      if (err instanceof ApplicationFailure) throw err;
      throw ApplicationFailure.retryable(
        `http: ${where}: ${(err as Error).cause ? String((err as { cause: unknown }).cause) : (err as Error).message}`,
        'HttpUnreachable',
      );
    }
    const status = response.status;
    const expected = input.expectStatus.length ? input.expectStatus.includes(status) : status >= 200 && status < 300;
    const text = body.toString('utf8');
    if (!expected) {
      const message = `http: ${where} answered ${status}${text ? `: ${text.slice(0, 300)}` : ''}`;
      if (status >= 500 || status === 429) throw ApplicationFailure.retryable(message, 'HttpServerError');
      throw ApplicationFailure.nonRetryable(message, 'HttpUnexpectedStatus');
    }
    const result: HttpOperatorResult = { status, bytes: body.length };
    if (/json/.test(response.headers.get('content-type') ?? '') && body.length <= MAX_JSON_OUTPUT_BYTES && body.length > 0) {
      try {
        result.json = JSON.parse(text);
      } catch {
        throw ApplicationFailure.nonRetryable(`http: ${where} said its ${body.length}-byte answer is JSON, and it is not`, 'HttpBadJson');
      }
    }
    return result;
  };
}
