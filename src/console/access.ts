/**
 * Who may use the console, and how a form proves it came from the console's own page.
 *
 * - On a loopback address the console is the local user's, as the CLI is: no token, and what
 *   they do is recorded as `BATON_USER` (or their login).
 * - On any other address it refuses to start without `BATON_CONSOLE_TOKEN` (one user, recorded as the
 *   console's operator) or `BATON_CONSOLE_USERS` (`name:token,name:token`, each recorded by name).
 *   Every page and action then needs a session: the login form takes the token and sets a signed,
 *   HttpOnly, SameSite=Strict cookie; a script may send `Authorization: Bearer <token>` instead.
 * - Every action is a POST carrying a CSRF token: a random value in a cookie of its own, sent back
 *   signed in the form (or the `X-CSRF-Token` header). A page of another site can read neither.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export class ConsoleAccessError extends Error {}

/** Tokens shorter than this are refused: a token is a password, not a PIN. */
export const MIN_TOKEN_CHARS = 16;
const SESSION_HOURS = 12;

export interface Access {
  /** No token is needed: the console listens on loopback and none is set. */
  open: boolean;
  /** Users by token. */
  users: Map<string, string>;
  /** Signs sessions and CSRF tokens; new each start (a restart signs everyone out). */
  secret: Buffer;
}

/** Whether an address is this machine's alone. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/**
 * The console's access on `host`, from the environment. A non-loopback address without a token
 * is refused before anything listens, naming what to set; so is a short or malformed token.
 */
export function accessFor(host: string, env: NodeJS.ProcessEnv, operator: () => string): Access {
  const users = new Map<string, string>();
  if (env.BATON_CONSOLE_USERS) {
    for (const entry of env.BATON_CONSOLE_USERS.split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const at = entry.indexOf(':');
      const [name, token] = at > 0 ? [entry.slice(0, at), entry.slice(at + 1)] : ['', ''];
      if (!/^[\w.@-]{1,64}$/.test(name))
        throw new ConsoleAccessError('BATON_CONSOLE_USERS is a list of name:token, separated by commas; a name is letters, digits and ._@-');
      if (token.length < MIN_TOKEN_CHARS)
        throw new ConsoleAccessError(`BATON_CONSOLE_USERS: the token of ${name} is shorter than ${MIN_TOKEN_CHARS} characters`);
      users.set(token, name);
    }
  }
  if (env.BATON_CONSOLE_TOKEN) {
    if (env.BATON_CONSOLE_TOKEN.length < MIN_TOKEN_CHARS) throw new ConsoleAccessError(`BATON_CONSOLE_TOKEN is shorter than ${MIN_TOKEN_CHARS} characters`);
    users.set(env.BATON_CONSOLE_TOKEN, operator());
  }
  if (!users.size && !isLoopback(host))
    throw new ConsoleAccessError(
      `the console on ${host} would be open to the network: set BATON_CONSOLE_TOKEN (or BATON_CONSOLE_USERS=name:token,...) to a secret of ${MIN_TOKEN_CHARS} characters or more, or listen on 127.0.0.1`,
    );
  return { open: users.size === 0, users, secret: randomBytes(32) };
}

const sign = (secret: Buffer, value: string) => createHmac('sha256', secret).update(value).digest('base64url');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The user a token belongs to, compared in constant time. */
export function userOfToken(access: Access, token: string): string | undefined {
  for (const [known, user] of access.users) if (same(known, token)) return user;
  return undefined;
}

/** A session cookie's value for a user: who, until when, signed. */
export function sessionValue(access: Access, user: string, now = Date.now()): string {
  const body = `${Buffer.from(user).toString('base64url')}.${now + SESSION_HOURS * 3_600_000}`;
  return `${body}.${sign(access.secret, `session:${body}`)}`;
}

/** The user of a session cookie, or undefined when it is missing, forged or expired. */
export function userOfSession(access: Access, value: string | undefined, now = Date.now()): string | undefined {
  const parts = (value ?? '').split('.');
  if (parts.length !== 3) return undefined;
  const body = `${parts[0]}.${parts[1]}`;
  if (!same(parts[2], sign(access.secret, `session:${body}`)) || Number(parts[1]) < now) return undefined;
  return Buffer.from(parts[0], 'base64url').toString('utf8');
}

/** A new CSRF cookie value. */
export const newCsrfId = () => randomBytes(18).toString('base64url');

/** The token a page puts in its forms for a CSRF cookie. */
export const csrfToken = (access: Access, id: string) => sign(access.secret, `csrf:${id}`);

/** Whether a form's token matches its CSRF cookie. */
export function csrfMatches(access: Access, id: string | undefined, token: string | undefined): boolean {
  return !!id && !!token && same(token, csrfToken(access, id));
}
