/**
 * The console's pages and fragments: the layout, the DAGs page and a DAG's grid. Every value is
 * escaped by `html` (src/console/html.ts); state is shown by colour and by word (each cell's
 * label), so it reads without colour, in light and dark, and with a keyboard (cells are buttons).
 */
import type { TaskRecord, TaskState } from '../contracts';
import type { ReadRun } from '../grid';
import type { CompiledDag } from '../sdk/compile';
import { foldKey } from '../task-lines';
import type { DagRow } from './data';
import { compact, html, type Html } from './html';

export interface PageContext {
  csrf: string;
  /** Who is signed in (a console with tokens), shown with a sign-out button. */
  user?: string;
  webUiUrl: string;
  namespace: string;
}

export const dagPath = (dagId: string) => `/dags/${encodeURIComponent(dagId)}`;
export const runPath = (dagId: string, key: string) => `${dagPath(dagId)}/runs/${encodeURIComponent(key)}`;
export const taskPath = (dagId: string, key: string, taskId: string) => `${runPath(dagId, key)}/tasks/${encodeURIComponent(taskId)}`;
export const webUiRun = (ctx: Pick<PageContext, 'webUiUrl' | 'namespace'>, workflowId: string, runId: string) =>
  `${ctx.webUiUrl}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;

/** A whole page: the header, the content, and the panel a cell opens into. */
export function layout(ctx: PageContext, title: string, content: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>${title} · Baton</title>
        <link rel="stylesheet" href="/static/console.css" />
        <script src="/static/htmx.min.js" defer></script>
        <script src="/static/console.js" defer></script>
      </head>
      <body hx-headers='{"X-CSRF-Token": "${ctx.csrf}"}'>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/dags">Baton</a>
          <nav aria-label="sections"><a href="/dags">DAGs</a> <a href="/assets">Assets</a> <a href="${ctx.webUiUrl}">Temporal Web UI</a></nav>
          ${
            ctx.user
              ? html`<form method="post" action="/logout" class="who">
                  <input type="hidden" name="_csrf" value="${ctx.csrf}" /><span>${ctx.user}</span> <button type="submit">Sign out</button>
                </form>`
              : ''
          }
        </header>
        <main id="main">${content}</main>
      </body>
    </html>`;
}

/** A run's status as a state class: Temporal's execution status. */
export const runClass = (status: string) => `r-${status.toLowerCase()}`;

export interface DagFilters {
  q?: string;
  tag?: string;
  owner?: string;
  state?: string;
}

/** The states the DAGs page filters on: the schedule's, or the last run's. */
export const DAG_STATES = ['active', 'paused', 'running', 'failed', 'succeeded'] as const;

export function filterDags(rows: readonly DagRow[], f: DagFilters): DagRow[] {
  const q = f.q?.trim().toLowerCase();
  return rows.filter((r) => {
    if (q && !r.dag.dagId.toLowerCase().includes(q)) return false;
    if (f.tag && !r.dag.tags.includes(f.tag)) return false;
    if (f.owner && r.dag.defaultArgs.owner !== f.owner) return false;
    const last = r.lastRuns[0]?.status;
    if (f.state === 'active' && r.paused !== false) return false;
    if (f.state === 'paused' && r.paused !== true) return false;
    if (f.state === 'running' && !r.lastRuns.some((l) => l.status === 'RUNNING')) return false;
    if (f.state === 'failed' && last !== 'FAILED') return false;
    if (f.state === 'succeeded' && last !== 'COMPLETED') return false;
    return true;
  });
}

/** The DAGs page: filters, then a row per DAG with its schedule, next run, owner, tags, pause switch and last runs. */
export function dagsPage(ctx: PageContext, all: readonly DagRow[], filters: DagFilters): Html {
  const rows = filterDags(all, filters);
  const tags = [...new Set(all.flatMap((r) => r.dag.tags))].sort();
  const owners = [...new Set(all.map((r) => r.dag.defaultArgs.owner))].sort();
  const option = (value: string, chosen?: string) => html`<option value="${value}" ${value === chosen ? 'selected' : ''}>${value || 'any'}</option>`;
  return html`<h1>DAGs</h1>
    <form class="filters" method="get" action="/dags" role="search">
      <label>Search <input type="search" name="q" value="${filters.q ?? ''}" placeholder="dag id" /></label>
      <label
        >Tag
        <select name="tag">
          ${['', ...tags].map((t) => option(t, filters.tag))}
        </select></label
      >
      <label
        >Owner
        <select name="owner">
          ${['', ...owners].map((o) => option(o, filters.owner))}
        </select></label
      >
      <label
        >State
        <select name="state">
          ${['', ...DAG_STATES].map((s) => option(s, filters.state))}
        </select></label
      >
      <button type="submit">Filter</button>
    </form>
    <p class="count">${rows.length} of ${all.length} DAGs</p>
    <table class="dags">
      <thead>
        <tr>
          <th scope="col">DAG</th>
          <th scope="col">Schedule</th>
          <th scope="col">Next run</th>
          <th scope="col">Owner</th>
          <th scope="col">Tags</th>
          <th scope="col">Schedule state</th>
          <th scope="col">Last runs</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr data-dag="${r.dag.dagId}">
              <th scope="row"><a href="${dagPath(r.dag.dagId)}">${r.dag.dagId}</a></th>
              <td>${r.schedule} <span class="muted">${r.dag.timezone}</span></td>
              <td>${r.nextRun ?? '—'}</td>
              <td>${r.dag.defaultArgs.owner}</td>
              <td>${r.dag.tags.map((t) => html`<a class="tag" href="/dags?tag=${encodeURIComponent(t)}">${t}</a> `)}</td>
              <td>${pauseSwitch(ctx, r.dag.dagId, r.paused)}</td>
              <td class="marks">
                ${[...r.lastRuns].reverse().map(
                  (l) =>
                    html`<a
                        class="mark ${runClass(l.status)}"
                        href="${dagPath(r.dag.dagId)}"
                        title="${l.key} ${l.status.toLowerCase()}"
                        aria-label="${l.key} ${l.status.toLowerCase()}"
                      ></a>`,
                )}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/** The pause switch: a form that pauses or unpauses the schedule, asking why. */
export function pauseSwitch(ctx: PageContext, dagId: string, paused: boolean | 'no schedule'): Html {
  if (paused === 'no schedule') return html`<span class="muted">no schedule</span>`;
  const action = paused ? 'unpause' : 'pause';
  return html`<form class="pause" method="post" action="${dagPath(dagId)}/${action}" hx-post="${dagPath(dagId)}/${action}" hx-target="this" hx-swap="outerHTML">
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />
    <span class="state ${paused ? 'paused' : 'active'}">${paused ? 'paused' : 'active'}</span>
    <input name="reason" required maxlength="1000" placeholder="reason" aria-label="reason to ${action} ${dagId}" />
    <button type="submit">${paused ? 'Unpause' : 'Pause'}</button>
  </form>`;
}

/** The order in which a folded row takes its members' states: the one that needs a look first. */
const WORST: readonly TaskState[] = ['failed', 'upstream_failed', 'running', 'queued', 'scheduled', 'skipped', 'success'];

/** The grid's rows: each task in the DAG's order, a group folded into one row (its members after it, hidden until opened). */
export function gridRows(dag: CompiledDag): Array<{ id: string; group?: string; members?: string[] }> {
  const rows: Array<{ id: string; group?: string; members?: string[] }> = [];
  const groups = new Map<string, string[]>();
  for (const taskId of dag.order) {
    const key = foldKey(taskId);
    if (key === taskId) rows.push({ id: taskId });
    else if (!groups.has(key)) {
      groups.set(key, [taskId]);
      rows.push({ id: key, members: groups.get(key)! });
    } else groups.get(key)!.push(taskId);
  }
  return rows.flatMap((r) => (r.members ? [r, ...r.members.map((m) => ({ id: m, group: r.id }))] : [r]));
}

/** A folded group's state in a run: its members' worst, and how many are in each state. */
function groupCell(members: readonly string[], tasks: ReadonlyMap<string, TaskRecord>): { state?: TaskState; counts: string } {
  const states = members.map((m) => tasks.get(m)?.state).filter((s): s is TaskState => !!s);
  const counts = WORST.filter((s) => states.includes(s))
    .map((s) => `${states.filter((x) => x === s).length} ${s}`)
    .join(', ');
  return { state: WORST.find((s) => states.includes(s)), counts };
}

const seconds = (ms: number) =>
  ms < 60_000
    ? `${(ms / 1000).toFixed(1)}s`
    : ms < 3_600_000
      ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
      : `${(ms / 3_600_000).toFixed(1)}h`;

/** A run's duration: closed, or so far. */
export const runDurationMs = (run: Pick<ReadRun, 'startedAt' | 'closedAt'>, now = Date.now()) =>
  (run.closedAt ? Date.parse(run.closedAt) : now) - Date.parse(run.startedAt);

/**
 * The grid: runs as columns (oldest first) headed by a bar scaled to their duration, tasks as rows,
 * each cell a button that opens the task's panel. It asks for itself again every 1.5 s with the
 * version it shows; the server answers 204 while nothing changed.
 */
export function gridFragment(dag: CompiledDag, runs: readonly ReadRun[], opts: { last: number; version: string; now?: number }): Html {
  const now = opts.now ?? Date.now();
  const longest = Math.max(1, ...runs.map((r) => runDurationMs(r, now)));
  const tables = runs.map((r) => new Map((r.tasks ?? []).map((t) => [t.taskId, t])));
  const path = dagPath(dag.dagId);
  const rows = gridRows(dag);
  const cell = (run: ReadRun, i: number, row: { id: string; members?: string[] }) => {
    if (!run.tasks) return html`<td><span class="c s-unknown" title="not read">?</span></td>`;
    const folded = row.members ? groupCell(row.members, tables[i]) : undefined;
    const task = tables[i].get(row.id);
    const state = folded ? folded.state : task?.state;
    const mapped = task?.mapped ? ` (${task.mapped.success} of ${task.mapped.total} instances succeeded, ${task.mapped.failed} failed)` : '';
    const label = `${row.id} ${run.key}: ${state ?? 'not in the run'}${folded?.counts ? ` (${folded.counts})` : ''}${mapped}`;
    if (!state) return html`<td><span class="c s-none" title="${label}"></span></td>`;
    return html`<td>
      <button
        type="button"
        class="c s-${state}"
        data-run="${run.key}"
        data-task="${row.members ? row.members[0] : row.id}"
        title="${label}"
        aria-label="${label}"
      >
        ${task?.mapped ? html`<span class="n">${task.mapped.total}</span>` : ''}
      </button>
    </td>`;
  };
  return compact(html`<div
    id="grid"
    class="grid-wrap"
    hx-get="${path}/grid?last=${opts.last}&v=${opts.version}"
    hx-trigger="every 1500ms"
    hx-swap="outerHTML"
    data-version="${opts.version}"
    data-dag="${dag.dagId}"
  >
    ${
      runs.length
        ? html`<table class="grid" aria-label="runs of ${dag.dagId}, oldest first">
            <thead>
              <tr class="bars">
                <th scope="col" class="corner">${runs.length} runs</th>
                ${runs.map((r) => {
                  const ms = runDurationMs(r, now);
                  const label = `run ${r.key}: ${r.status.toLowerCase()}, ${seconds(ms)}`;
                  return html`<th scope="col" class="run-head">
                    <button type="button" class="run" data-run="${r.key}" title="${label}" aria-label="${label}">
                      <span class="bar ${runClass(r.status)}" style="height:${Math.max(4, Math.round((ms / longest) * 100))}%"></span>
                    </button>
                    <span class="key">${r.key.includes('T') ? r.key.slice(5, 16).replace('T', ' ') : r.key.slice(5)}</span>
                  </th>`;
                })}
              </tr>
            </thead>
            <tbody>
              ${rows.map(
                (row) =>
                  html`<tr
                    class="${row.members ? 'group' : row.group ? 'member' : ''}"
                    data-row="${row.id}"
                    ${row.group ? html`data-member-of="${row.group}" hidden` : ''}
                  >
                    <th scope="row">
                      ${
                        row.members
                          ? html`<button type="button" class="fold" aria-expanded="false" data-group="${row.id}">
                              ▸ ${row.id} <span class="muted">(${row.members.length})</span>
                            </button>`
                          : html`<span class="task-id">${row.group ? row.id.slice(row.group.length + 1) : row.id}</span>`
                      }
                    </th>
                    ${runs.map((r, i) => cell(r, i, row))}
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="empty">No runs yet.</p>`
    }
  </div>`);
}

/** A DAG's page: its header (trigger, graph, backfill, pause), the grid and the panel a cell opens. */
export function dagPage(ctx: PageContext, dag: CompiledDag, grid: Html, opts: { last: number; paused: boolean | 'no schedule' }): Html {
  const path = dagPath(dag.dagId);
  return html`<div class="dag-head">
      <h1>${dag.dagId}</h1>
      <p class="muted">${dag.definition.description ?? ''}</p>
      <nav class="actions" aria-label="DAG actions">
        <a class="button" href="${path}/trigger">Trigger</a>
        <a class="button" href="${path}/graph">Graph</a>
        <a class="button" href="${path}/backfill">Backfill</a>
        <a class="button" href="${path}?last=${opts.last + 25}">${opts.last + 25} runs</a>
      </nav>
      ${pauseSwitch(ctx, dag.dagId, opts.paused)}
    </div>
    <div class="with-panel">
      ${grid}
      <aside id="panel" class="panel" aria-live="polite"><p class="muted">Choose a cell for its task, a bar for its run.</p></aside>
    </div>`;
}
