/** What the console's routes share: the request's variables, its form, and the errors a route refuses with. */
import type { Context } from 'hono';

/** What the access checks leave on a request: who (a console with tokens), its CSRF token, and whether a bearer token signed it. */
export type Env = { Variables: { user?: string; csrf: string; bearer: boolean } };

/** A refusal of an action: bad input, or an operation that cannot be done now. */
export class ActionError extends Error {}

/** What a page names is not there: a DAG, a run, a task. */
export class NotFound extends Error {}

export type Form = Record<string, string | File | (string | File)[]>;

/** The request's form, read once (the CSRF check and the route both need it). */
export async function formOf(c: Context<Env>): Promise<Form> {
  return (await c.req.parseBody({ all: true })) as Form;
}

/** A checkbox's value as a form sends it. */
export const checked = (value: unknown) => value === 'on' || value === 'true' || value === '1';
