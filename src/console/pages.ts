/**
 * The console's other pages: the trigger form (from the DAG's params), the backfill form and its
 * progress, a run's graph, the assets, and the sign-in form. Escaped by `html`.
 */
import type { AssetListing } from '../assets';
import type { BackfillProgress } from '../contracts';
import type { CompiledDag } from '../sdk/compile';
import { graphSvg, layoutDag } from './graph';
import { html, type Html } from './html';
import type { ParamField } from './trigger-form';
import { dagPath, runClass, taskPath, type PageContext } from './views';
import type { ReadRun } from '../grid';

const problemsOf = (problems: Record<string, string[]>, field: string, id: string) =>
  problems[field]?.length ? html`<p class="field-error" id="${id}" role="alert">${problems[field].join('; ')}</p>` : '';

/** The trigger form: the date (or timestamp), a field per param with its default and description, and free conf; problems beside their fields. */
export function triggerForm(
  ctx: PageContext,
  dag: CompiledDag,
  fields: readonly ParamField[],
  given: Record<string, string>,
  problems: Record<string, string[]> = {},
  subDaily = false,
): Html {
  const path = dagPath(dag.dagId);
  const value = (f: ParamField) =>
    given[`param.${f.name}`] ?? (f.default === undefined ? '' : typeof f.default === 'string' ? f.default : JSON.stringify(f.default));
  const invalid = (field: string) => (problems[field]?.length ? html`aria-invalid="true" aria-describedby="err-${field}"` : '');
  const input = (f: ParamField) => {
    const name = `param.${f.name}`;
    if (f.type === 'boolean') {
      const checked = given[name] !== undefined ? given[name] === 'on' : f.default === true;
      return html`<input type="hidden" name="${name}.shown" value="1" /><input
          type="checkbox"
          id="${name}"
          name="${name}"
          ${checked ? 'checked' : ''}
          ${invalid(f.name)}
        />`;
    }
    if (f.type === 'choice')
      return html`<select id="${name}" name="${name}" ${invalid(f.name)}>
        ${['', ...(f.options ?? [])].map((o) => html`<option value="${o}" ${o === value(f) ? 'selected' : ''}>${o || '(default)'}</option>`)}
      </select>`;
    if (f.type === 'json') return html`<textarea id="${name}" name="${name}" rows="3" ${invalid(f.name)}>${value(f)}</textarea>`;
    return html`<input id="${name}" name="${name}" value="${value(f)}" ${f.type === 'string' ? '' : html`inputmode="decimal"`} ${invalid(f.name)} />`;
  };
  return html`<form id="trigger" class="trigger" method="post" action="${path}/trigger" hx-post="${path}/trigger" hx-target="this" hx-swap="outerHTML">
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />
    <div class="field" data-field="date">
      <label for="date">${subDaily ? 'Logical timestamp' : 'Logical date'}</label>
      <input
        id="date"
        name="date"
        required
        value="${given.date ?? ''}"
        placeholder="${subDaily ? '2024-01-15T13:00:00+00:00' : 'YYYY-MM-DD'}"
        ${invalid('date')}
      />
      ${problemsOf(problems, 'date', 'err-date')}
    </div>
    ${fields.map(
      (f) =>
        html`<div class="field" data-field="${f.name}">
          <label for="param.${f.name}"
            >${f.name}${f.required ? ' *' : ''} <span class="muted">${f.type === 'choice' ? (f.options ?? []).join(' | ') : f.type}</span></label
          >
          ${input(f)} ${f.description ? html`<p class="hint">${f.description}</p>` : ''} ${problemsOf(problems, f.name, `err-${f.name}`)}
        </div>`,
    )}
    <div class="field" data-field="conf">
      <label for="conf">Conf (JSON object, optional)</label>
      <textarea id="conf" name="conf" rows="4" ${invalid('conf')}>${given.conf ?? ''}</textarea>
      ${problemsOf(problems, 'conf', 'err-conf')}
    </div>
    ${problems.run?.length ? html`<div class="error" role="alert">${problems.run.map((p) => html`<p>${p}</p>`)}</div>` : ''}
    <button type="submit">Trigger</button>
  </form>`;
}

export function triggerPage(dag: CompiledDag, form: Html): Html {
  return html`<h1>Trigger ${dag.dagId}</h1>
    <p><a href="${dagPath(dag.dagId)}">Back to the grid</a></p>
    ${form}`;
}

/** The backfill form, and the DAG's backfills with their progress. */
export function backfillPage(
  ctx: PageContext,
  dag: CompiledDag,
  backfills: Array<{ workflowId: string; status: string; progress?: BackfillProgress }>,
  message?: Html,
): Html {
  const path = dagPath(dag.dagId);
  return html`<h1>Backfill ${dag.dagId}</h1>
    <p><a href="${path}">Back to the grid</a></p>
    <form class="op backfill" method="post" action="${path}/backfill" hx-post="${path}/backfill" hx-target="#backfill-result">
      <input type="hidden" name="_csrf" value="${ctx.csrf}" />
      <label>From <input name="from" required placeholder="YYYY-MM-DD" /></label>
      <label>To <input name="to" required placeholder="YYYY-MM-DD" /></label>
      <label>At once <input name="maxActive" value="1" inputmode="numeric" /></label>
      <label
        >Dates that ran before
        <select name="rerun">
          <option>none</option>
          <option>failed</option>
          <option>all</option>
        </select></label
      >
      <label>Reason <input name="reason" required maxlength="1000" /></label>
      <button type="submit">Start the backfill</button>
    </form>
    <div id="backfill-result" aria-live="polite">${message ?? ''}</div>
    <div id="backfills" hx-get="${path}/backfills" hx-trigger="every 1500ms" hx-swap="innerHTML">${backfillList(backfills)}</div>`;
}

export function backfillList(backfills: Array<{ workflowId: string; status: string; progress?: BackfillProgress }>): Html {
  if (!backfills.length) return html`<p class="muted">No backfills yet.</p>`;
  return html`<table class="backfills">
    <thead>
      <tr>
        <th scope="col">Backfill</th>
        <th scope="col">Status</th>
        <th scope="col">Progress</th>
      </tr>
    </thead>
    <tbody>
      ${backfills.map((b) => {
        const p = b.progress;
        return html`<tr data-backfill="${b.workflowId}">
          <th scope="row"><code>${b.workflowId}</code></th>
          <td><span class="pill ${runClass(b.status)}">${b.status.toLowerCase()}</span></td>
          <td>
            ${
              p
                ? html`<progress max="${p.total}" value="${p.done}">${p.done}/${p.total}</progress> ${p.done}/${p.total}: ${p.succeeded} succeeded, ${p.failed}
                    failed, ${p.skipped} skipped${p.running.length ? `, running ${p.running.join(', ')}` : ''}`
                : '—'
            }
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/** A run's graph (or the DAG's structure with no run chosen), with the runs to choose from. */
export function graphPage(dag: CompiledDag, runs: readonly ReadRun[], chosen?: ReadRun): Html {
  const path = dagPath(dag.dagId);
  const layout = layoutDag(dag, chosen?.tasks);
  return html`<h1>${dag.dagId}: ${chosen ? `run ${chosen.key}` : 'structure'}</h1>
    <form method="get" action="${path}/graph" class="filters">
      <label
        >Run
        <select name="run">
          <option value="">(structure)</option>
          ${[...runs].reverse().map((r) => html`<option value="${r.key}" ${r.key === chosen?.key ? 'selected' : ''}>${r.key} ${r.status.toLowerCase()}</option>`)}
        </select></label
      >
      <button type="submit">Show</button> <a href="${path}">Back to the grid</a>
    </form>
    <div class="graph-wrap">${graphSvg(layout, chosen ? (taskId) => `${taskPath(dag.dagId, chosen.key, taskId)}?page=1` : undefined)}</div>
    <p class="legend muted">Left to right; dashed: a setup to its teardown. Below each task: its operator, and its trigger rule when not all_success.</p>`;
}

/** Assets: their last update and partition, producers, consumers, and the runs their updates started. */
export function assetsPage(assets: readonly AssetListing[], started: ReadonlyMap<string, Array<{ dagId: string; key: string; status: string }>>): Html {
  return html`<h1>Assets</h1>
    <table class="assets">
      <thead>
        <tr>
          <th scope="col">Asset</th>
          <th scope="col">Last update</th>
          <th scope="col">Updates</th>
          <th scope="col">Producers</th>
          <th scope="col">Consumers</th>
          <th scope="col">Runs started</th>
        </tr>
      </thead>
      <tbody>
        ${assets.map((a) => {
          const u = a.lastUpdate;
          return html`<tr data-asset="${a.asset}">
            <th scope="row"><code>${a.asset}</code></th>
            <td>${u ? html`${u.at.replace('T', ' ').slice(0, 19)} <span class="muted">partition ${u.partition}</span>` : '—'}</td>
            <td>${a.updates}</td>
            <td>${a.producers.map((p) => html`<a href="${dagPath(p.dagId)}">${p.dagId}</a>.${p.taskId} `)}</td>
            <td>${a.consumers.map((c) => html`<a href="${dagPath(c.dagId)}">${c.dagId}</a> <span class="muted">${c.condition}</span> `)}</td>
            <td>
              ${(started.get(a.asset) ?? []).map((r) => html`<a class="mark ${runClass(r.status)}" href="${dagPath(r.dagId)}" title="${r.dagId} ${r.key}"></a>`)}
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
}

/** The sign-in form of a console with tokens. */
export function loginPage(csrf: string, failed: boolean): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="color-scheme" content="light dark" />
        <title>Sign in · Baton</title>
        <link rel="stylesheet" href="/static/console.css" />
      </head>
      <body>
        <main id="main" class="login">
          <h1>Baton</h1>
          <form method="post" action="/login">
            <input type="hidden" name="_csrf" value="${csrf}" />
            <label>Access token <input type="password" name="token" required autocomplete="current-password" autofocus /></label>
            ${failed ? html`<p class="field-error" role="alert">That token is not one of this console's.</p>` : ''}
            <button type="submit">Sign in</button>
          </form>
        </main>
      </body>
    </html>`;
}
