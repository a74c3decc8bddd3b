/**
 * The console's routes (Hono): pages are GETs, actions are POSTs (src/console/actions.ts). Every request passes the access
 * check (src/console/access.ts) and every POST its CSRF check before it touches anything; each
 * action calls the operation the CLI calls (src/run-operations.ts and the schedule, trigger and
 * backfill functions), with the signed-in user as who asked and the reason the form asked for.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { secretMasker } from '../../activities/notify';
import { checkOperator } from '../approvals';
import { listAssets } from '../assets';
import { BackfillInputError } from '../backfill';
import type { GraphTask } from '../clear';
import type { Config } from '../config';
import type { Operator } from '../contracts';
import type { Catalog } from '../dag-catalog';
import { readGrid, type ReadRun } from '../grid';
import { notServed, paramProblems } from '../run-checks';
import { triggerRun } from '../runs';
import type { CompiledDag } from '../sdk/compile';
import { isSubDaily } from '../timetable';
import { csrfMatches, csrfToken, newCsrfId, sessionValue, userOfSession, userOfToken, type Access } from './access';
import { dagRows, instancesOf, LastRuns, readRun, taskLogLines } from './data';
import { html, type Html } from './html';
import { assetsPage, graphPage, loginPage, triggerForm, triggerPage } from './pages';
import { outcome, runPanel, taskPanel } from './panels';
import { addActionRoutes } from './actions';
import { ActionError, formOf, NotFound, type Env, type Form } from './routing';
import { paramFields, problemsByField, readTriggerForm } from './trigger-form';
import { dagPage, dagPath, dagsPage, gridFragment, layout, type PageContext } from './views';

export interface ConsoleDeps {
  client: Client;
  config: Config;
  catalog: Catalog;
  access: Access;
  /** Who asks when the console is open (loopback, no token): the local user, as the CLI says. */
  operator: () => string;
  /** The folder of worker logs a task's lines are read from. */
  logsDir: string;
}

const SESSION_COOKIE = 'baton_session';
const CSRF_COOKIE = 'baton_csrf';
/** Runs on a DAG's page by default, and the most a page shows. */
export const DEFAULT_RUNS = 25;
const MAX_RUNS = 1000;

/** The console's static files: its stylesheet and script, and htmx (from its package, no build step). */
function staticFiles(): Map<string, { type: string; body: string }> {
  const own = (name: string) => readFileSync(path.join(__dirname, 'static', name), 'utf8');
  return new Map([
    ['htmx.min.js', { type: 'text/javascript', body: readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8') }],
    ['console.js', { type: 'text/javascript', body: own('console.js') }],
    ['console.css', { type: 'text/css', body: own('console.css') }],
  ]);
}

export function consoleApp(deps: ConsoleDeps): Hono<Env> {
  const { client, config, access, catalog } = deps;
  const app = new Hono<Env>();
  const files = staticFiles();
  const mask = secretMasker(config);
  const compiled = new Map(catalog.files.map((f) => [f.dag.dagId, f.dag]));
  const lastRuns = new LastRuns(client);

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // The grid's bars are sized inline, and htmx adds its indicator style.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      referrerPolicy: 'same-origin',
    }),
  );

  app.get('/static/:name', (c) => {
    const file = files.get(c.req.param('name'));
    if (!file) return c.notFound();
    return c.body(file.body, 200, { 'Content-Type': `${file.type}; charset=utf-8`, 'Cache-Control': 'max-age=300' });
  });

  // Every response carries a CSRF cookie; forms send it back signed.
  app.use('*', async (c, next) => {
    let id = getCookie(c, CSRF_COOKIE);
    if (!id || !/^[\w-]{20,40}$/.test(id)) {
      id = newCsrfId();
      setCookie(c, CSRF_COOKIE, id, { httpOnly: true, sameSite: 'Strict', path: '/' });
    }
    c.set('csrf', csrfToken(access, id));
    c.set('bearer', false);
    await next();
  });

  app.get('/login', (c) => (access.open ? c.redirect('/dags') : c.html(loginPage(c.get('csrf'), c.req.query('failed') === '1'))));

  // Who asks: a session, a bearer token, or anyone on an open (loopback, tokenless) console.
  app.use('*', async (c, next) => {
    if (access.open) return next();
    const bearer = /^Bearer (.+)$/.exec(c.req.header('Authorization') ?? '')?.[1];
    const user = bearer ? userOfToken(access, bearer) : userOfSession(access, getCookie(c, SESSION_COOKIE));
    if (user) {
      c.set('user', user);
      c.set('bearer', !!bearer);
      return next();
    }
    if (c.req.method === 'POST' && c.req.path === '/login') return next();
    if (c.req.method === 'GET' && !c.req.header('HX-Request')) return c.redirect('/login');
    return c.text('sign in first: this console needs its access token', 401);
  });

  // Every POST proves it came from one of the console's own forms.
  app.use('*', async (c, next) => {
    if (c.req.method !== 'POST' || c.get('bearer')) return next();
    const header = c.req.header('X-CSRF-Token');
    const form = header ? undefined : await formOf(c);
    const token = header ?? (typeof form?._csrf === 'string' ? form._csrf : undefined);
    if (!csrfMatches(access, getCookie(c, CSRF_COOKIE), token))
      return c.text('refused: the form did not come from this console (CSRF token missing or wrong); reload the page', 403);
    return next();
  });

  app.post('/login', async (c) => {
    const form = await formOf(c);
    const user = typeof form.token === 'string' ? userOfToken(access, form.token) : undefined;
    if (!user) return c.redirect('/login?failed=1', 303);
    setCookie(c, SESSION_COOKIE, sessionValue(access, user), { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect('/dags', 303);
  });

  app.post('/logout', (c) => {
    setCookie(c, SESSION_COOKIE, '', { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 0 });
    return c.redirect('/login', 303);
  });

  const page = (c: Context<Env>): PageContext => ({
    csrf: c.get('csrf'),
    ...(c.get('user') && !access.open ? { user: c.get('user') } : {}),
    webUiUrl: config.webUiUrl,
    namespace: config.temporal.namespace,
  });
  /** A fragment for htmx; a whole page for a browser that followed a plain link or form. */
  // (htmx swaps only a 2xx answer: a refusal it shows comes as 200, to a plain form with its status.)
  const respond = (c: Context<Env>, title: string, fragment: Html, status: 200 | 404 | 422 = 200) =>
    c.req.header('HX-Request') ? c.html(fragment, 200) : c.html(layout(page(c), title, fragment), status);
  /** Who asked and why, checked as the CLI checks it; a missing reason is refused. */
  const operatorOf = (c: Context<Env>, form: Form): Operator => {
    const reason = typeof form.reason === 'string' ? form.reason.trim() : '';
    if (!reason) throw new ActionError('give a reason: it is recorded with the operation');
    const operator = { by: c.get('user') ?? deps.operator(), reason };
    checkOperator(operator);
    return operator;
  };
  const dagOf = (c: Context<Env>): CompiledDag => {
    const dag = compiled.get(c.req.param('dag') ?? '');
    if (!dag) throw new NotFound(`no DAG ${JSON.stringify(c.req.param('dag'))}; the DAGs are ${[...compiled.keys()].join(', ')}`);
    return dag;
  };
  const graphOf = (dag: CompiledDag): GraphTask[] => dag.tasks.map((t) => ({ taskId: t.taskId, upstream: [...t.upstream] }));
  const runOf = async (dag: CompiledDag, key: string): Promise<ReadRun> => {
    const run = await readRun(client, dag.definition, key);
    if (!run) throw new NotFound(`${dag.dagId} has no run for ${key}`);
    return run;
  };
  const pausedOf = async (dagId: string): Promise<boolean | 'no schedule'> => {
    try {
      return (await client.schedule.getHandle(dagId).describe()).state.paused;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'no schedule';
      throw err;
    }
  };

  app.get('/', (c) => c.redirect('/dags'));

  app.get('/dags', async (c) => {
    const rows = await dagRows(client, catalog, lastRuns);
    const filters = { q: c.req.query('q'), tag: c.req.query('tag'), owner: c.req.query('owner'), state: c.req.query('state') };
    return c.html(layout(page(c), 'DAGs', dagsPage(page(c), rows, filters)));
  });

  const lastOf = (c: Context<Env>) => Math.min(MAX_RUNS, Math.max(1, Number.parseInt(c.req.query('last') ?? '', 10) || DEFAULT_RUNS));
  const versionOf = (runs: readonly ReadRun[]) =>
    createHash('sha1')
      .update(
        JSON.stringify(
          runs.map((r) => [r.key, r.runId, r.status, r.closedAt ?? '', r.tasks?.map((t) => [t.state, t.mapped?.success, t.mapped?.failed]) ?? null]),
        ),
      )
      .digest('base64url')
      .slice(0, 16);

  app.get('/dags/:dag', async (c) => {
    const dag = dagOf(c);
    const last = lastOf(c);
    const [runs, paused] = await Promise.all([readGrid(client, dag.definition, last), pausedOf(dag.dagId)]);
    const grid = gridFragment(dag, runs, { last, version: versionOf(runs) });
    return c.html(layout(page(c), dag.dagId, dagPage(page(c), dag, grid, { last, paused })));
  });

  app.get('/dags/:dag/grid', async (c) => {
    const dag = dagOf(c);
    const last = lastOf(c);
    const runs = await readGrid(client, dag.definition, last);
    const version = versionOf(runs);
    // Nothing changed since the page's version: htmx swaps nothing on a 204.
    if (c.req.query('v') === version) return c.body(null, 204);
    return c.html(gridFragment(dag, runs, { last, version }));
  });

  app.get('/dags/:dag/runs/:key', async (c) => {
    const dag = dagOf(c);
    const run = await runOf(dag, c.req.param('key'));
    return respond(c, `${dag.dagId} ${run.key}`, runPanel(page(c), dag.dagId, run));
  });

  app.get('/dags/:dag/runs/:key/tasks/:task', async (c) => {
    const dag = dagOf(c);
    const run = await runOf(dag, c.req.param('key'));
    const taskId = c.req.param('task');
    const task = dag.tasks.find((t) => t.taskId === taskId);
    const record = run.tasks?.find((t) => t.taskId === taskId);
    if (!task && !record) throw new NotFound(`no task ${JSON.stringify(taskId)} in ${dag.dagId}`);
    const [instances, logLines] = await Promise.all([
      record?.mapped ? instancesOf(client, record).catch(() => []) : Promise.resolve(undefined),
      taskLogLines(deps.logsDir, dag.definition, run.key, taskId),
    ]);
    return respond(c, `${taskId} ${run.key}`, taskPanel(page(c), dag.dagId, run, task, record, { ...(instances ? { instances } : {}), logLines, mask }));
  });

  app.get('/dags/:dag/graph', async (c) => {
    const dag = dagOf(c);
    const runs = await readGrid(client, dag.definition, DEFAULT_RUNS);
    const key = c.req.query('run');
    const chosen = key ? (runs.find((r) => r.key === key) ?? (await runOf(dag, key))) : undefined;
    return c.html(layout(page(c), `${dag.dagId} graph`, graphPage(dag, runs, chosen)));
  });

  // ---- Trigger ----
  app.get('/dags/:dag/trigger', (c) => {
    const dag = dagOf(c);
    const form = triggerForm(page(c), dag, paramFields(dag.file.params), {}, {}, isSubDaily(dag.definition));
    return c.html(layout(page(c), `Trigger ${dag.dagId}`, triggerPage(dag, form)));
  });

  app.post('/dags/:dag/trigger', async (c) => {
    const dag = dagOf(c);
    const form = await formOf(c);
    const given = Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const fields = paramFields(dag.file.params);
    const again = (problems: Record<string, string[]>) =>
      respond(c, `Trigger ${dag.dagId}`, triggerForm(page(c), dag, fields, given, problems, isSubDaily(dag.definition)), 422);
    const read = readTriggerForm(dag.definition, fields, given);
    if ('problems' in read) return again(read.problems);
    const problems = paramProblems(dag.definition, read.conf);
    if (problems.length) return again(problemsByField(problems, fields));
    const refusal = await notServed(config, dag.definition);
    if (refusal) return again({ run: [refusal] });
    const run = await triggerRun(client, config, dag.definition, read.key, read.conf);
    const target = `${dagPath(dag.dagId)}?started=${encodeURIComponent(run.workflowId)}`;
    if (c.req.header('HX-Request')) return c.body(null, 200, { 'HX-Redirect': target });
    return c.redirect(target, 303);
  });

  addActionRoutes(app, { client, config, page, respond, operatorOf, dagOf, graphOf });

  // ---- Assets ----
  app.get('/assets', async (c) => {
    const assets = await listAssets(client, catalog.files);
    const rows = await dagRows(client, catalog, lastRuns);
    const started = new Map(
      assets.map((a) => [
        a.asset,
        a.consumers.flatMap((consumer) => (rows.find((r) => r.dag.dagId === consumer.dagId)?.lastRuns ?? []).map((r) => ({ dagId: consumer.dagId, ...r }))),
      ]),
    );
    return c.html(layout(page(c), 'Assets', assetsPage(assets, started)));
  });

  // A refusal says why where the form was; anything else is logged by the caller and named, masked.
  app.onError((err, c) => {
    const known = err instanceof ActionError || err instanceof BackfillInputError || err instanceof NotFound;
    const message = mask(err.message);
    if (err instanceof NotFound) return respond(c, 'Not found', outcome(false, [message]), 404);
    return respond(c, 'Refused', outcome(false, [known ? message : `failed: ${message}`]));
  });
  app.notFound((c) =>
    c.html(
      layout(
        page(c),
        'Not found',
        html`<h1>Not found</h1>
          <p><a href="/dags">The DAGs</a></p>`,
      ),
      404,
    ),
  );
  return app;
}
