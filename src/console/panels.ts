/**
 * The panel a grid cell or run bar opens: a task's state, tries, times, output, error, log lines
 * and link to its events, with its operations (clear with a preview, mark, answer an approval);
 * a run's with cancel and rerun. Each operation asks for a reason. Escaped by `html`.
 */
import type { TaskRecord } from '../contracts';
import type { ReadRun } from '../grid';
import type { ClearTarget } from '../run-operations';
import type { CompiledTask } from '../sdk/compile';
import { html, type Html } from './html';
import { runDurationMs, runPath, taskPath, webUiRun, type PageContext } from './views';

const when = (iso?: string) => (iso ? iso.replace('T', ' ').slice(0, 19) : '—');
const took = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)}s`);

const reasonField = (id: string) => html`<label>Reason <input name="reason" id="${id}" required maxlength="1000" autocomplete="off" /></label>`;

/** The outcome of an operation, or its refusal, where the form was. */
export function outcome(ok: boolean, lines: readonly string[]): Html {
  return html`<div class="${ok ? 'ok' : 'error'}" role="${ok ? 'status' : 'alert'}">${lines.map((l) => html`<p>${l}</p>`)}</div>`;
}

/** A task's panel in a run. */
export function taskPanel(
  ctx: PageContext,
  dagId: string,
  run: ReadRun,
  task: CompiledTask | undefined,
  record: TaskRecord | undefined,
  extra: { instances?: TaskRecord[]; logLines: string[]; mask: (text: string) => string },
): Html {
  const taskId = record?.taskId ?? task?.taskId ?? '?';
  const base = taskPath(dagId, run.key, taskId);
  const output = Object.entries(record?.output ?? {});
  const approval =
    task?.definition.operator === 'approval' ? (task.definition as { options?: readonly string[]; schema?: unknown; subject?: string }) : undefined;
  const waiting = approval && record?.state === 'running' && run.status === 'RUNNING';
  return html`<section class="task-panel" aria-labelledby="panel-title" data-task="${taskId}" data-run="${run.key}">
    <h2 id="panel-title">${taskId} <span class="muted">${run.key}</span></h2>
    <dl class="facts">
      <dt>State</dt>
      <dd><span class="pill s-${record?.state ?? 'none'}" data-state="${record?.state ?? ''}">${record?.state ?? 'not in the run'}</span></dd>
      <dt>Tries</dt>
      <dd>${record?.tries ?? (record?.startedAt ? 1 : 0)}</dd>
      <dt>Started</dt>
      <dd>${when(record?.startedAt)}</dd>
      <dt>Duration</dt>
      <dd>${took(record?.durationMs)}</dd>
      ${
        task
          ? html`<dt>Operator</dt>
              <dd>${task.definition.operator}${task.triggerRule !== 'all_success' ? ` · ${task.triggerRule}` : ''}</dd>`
          : ''
      }
    </dl>
    ${
      output.length
        ? html`<h3>Output</h3>
            <table class="xcom">
              ${output.map(
                ([k, v]) =>
                  html`<tr>
                    <th scope="row">${k}</th>
                    <td><code>${String(v)}</code></td>
                  </tr>`,
              )}
            </table>`
        : ''
    }
    ${
      record?.error
        ? html`<h3>Error</h3>
            <pre class="error-text">${extra.mask(record.error)}</pre>`
        : ''
    }
    ${
      record?.mapped
        ? html`<h3>Instances</h3>
            <p>${record.mapped.success} succeeded, ${record.mapped.failed} failed, ${record.mapped.reused} kept, of ${record.mapped.total}</p>
            ${
              extra.instances?.length
                ? html`<ol class="instances">
                    ${extra.instances.slice(0, 500).map((i) => html`<li class="s-${i.state}">${i.taskId} ${i.state}${i.error ? html` — ${extra.mask(i.error)}` : ''}</li>`)}
                  </ol>`
                : ''
            }`
        : ''
    }
    <h3>Log</h3>
    ${extra.logLines.length ? html`<pre class="log">${extra.logLines.map((l) => `${extra.mask(l)}\n`)}</pre>` : html`<p class="muted">No lines in this machine's worker logs.</p>`}
    <p><a href="${webUiRun(ctx, run.workflowId, run.runId)}" target="_blank" rel="noopener">Its events in the Temporal Web UI</a></p>
    ${waiting ? approvalForm(ctx, base, approval!) : ''} ${run.status !== 'RUNNING' ? clearForm(ctx, base) : ''} ${markForm(ctx, base, record?.state)}
    <div id="op-result" aria-live="polite"></div>
  </section>`;
}

function clearForm(ctx: PageContext, base: string): Html {
  return html`<form class="op" hx-post="${base}/clear" hx-target="#op-result" method="post" action="${base}/clear">
    <h3>Clear</h3>
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />
    <label><input type="checkbox" name="downstream" checked /> Downstream</label>
    <label><input type="checkbox" name="upstream" /> Upstream</label>
    <label><input type="checkbox" name="failedOnly" /> Failed only</label>
    ${reasonField('clear-reason')}
    <button type="submit" name="preview" value="1" formnovalidate hx-post="${base}/clear?preview=1" hx-target="#op-result">Preview</button>
    <button type="submit">Clear</button>
  </form>`;
}

function markForm(ctx: PageContext, base: string, state?: string): Html {
  return html`<form class="op" hx-post="${base}/mark" hx-target="#op-result" method="post" action="${base}/mark">
    <h3>Mark</h3>
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />
    <label
      >State
      <select name="state">
        ${['success', 'failed', 'skipped'].filter((s) => s !== state).map((s) => html`<option value="${s}">${s}</option>`)}
      </select></label
    >
    ${reasonField('mark-reason')}
    <button type="submit">Mark</button>
  </form>`;
}

function approvalForm(ctx: PageContext, base: string, approval: { options?: readonly string[]; schema?: unknown; subject?: string }): Html {
  return html`<form class="op approval" hx-post="${base}/answer" hx-target="#op-result" method="post" action="${base}/answer">
    <h3>Waiting for an answer</h3>
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />
    ${
      approval.options?.length
        ? html`<fieldset>
            <legend>Choose</legend>
            ${approval.options.map((o) => html`<label><input type="checkbox" name="choose" value="${o}" /> ${o}</label>`)}
          </fieldset>`
        : ''
    }
    ${approval.schema ? html`<label>Value (JSON) <textarea name="value" rows="4"></textarea></label>` : ''} ${reasonField('answer-reason')}
    <button type="submit" name="decision" value="approve">Approve</button>
    <button type="submit" name="decision" value="reject" formnovalidate>Reject</button>
  </form>`;
}

/** A run's panel: its status, times, notes, link to its history, and cancel or rerun. */
export function runPanel(ctx: PageContext, dagId: string, run: ReadRun): Html {
  const base = runPath(dagId, run.key);
  return html`<section class="run-panel" aria-labelledby="panel-title" data-run="${run.key}">
    <h2 id="panel-title">Run ${run.key}</h2>
    <dl class="facts">
      <dt>Status</dt>
      <dd><span class="pill r-${run.status.toLowerCase()}">${run.status.toLowerCase()}</span></dd>
      <dt>Started</dt>
      <dd>${when(run.startedAt)}</dd>
      <dt>Duration</dt>
      <dd>${took(runDurationMs(run))}</dd>
      <dt>Workflow</dt>
      <dd><code>${run.workflowId}</code></dd>
    </dl>
    ${
      run.notes?.length
        ? html`<ul class="notes">
            ${run.notes.map((n) => html`<li>${n}</li>`)}
          </ul>`
        : ''
    }
    <p>
      <a href="${webUiRun(ctx, run.workflowId, run.runId)}" target="_blank" rel="noopener">Its history in the Temporal Web UI</a> ·
      <a href="/dags/${encodeURIComponent(dagId)}/graph?run=${encodeURIComponent(run.key)}">Graph</a>
    </p>
    ${
      run.status === 'RUNNING'
        ? html`<form class="op" hx-post="${base}/cancel" hx-target="#op-result" method="post" action="${base}/cancel">
            <h3>Cancel</h3>
            <input type="hidden" name="_csrf" value="${ctx.csrf}" />${reasonField('cancel-reason')}<button type="submit">Cancel the run</button>
          </form>`
        : html`<form class="op" hx-post="${base}/rerun" hx-target="#op-result" method="post" action="${base}/rerun">
            <h3>Rerun</h3>
            <input type="hidden" name="_csrf" value="${ctx.csrf}" />${reasonField('rerun-reason')}<button type="submit">Run it again whole</button>
          </form>`
    }
    <div id="op-result" aria-live="polite"></div>
  </section>`;
}

/** What a clear would do: the tasks that run again and those kept, or why the run is left alone. */
export function clearPreview(target: ClearTarget): Html {
  if (target.refused) return outcome(false, [`${target.workflowId}: ${target.refused}`]);
  const plan = target.plan!;
  return html`<div class="preview" role="status">
    <p>Runs again: <strong>${plan.rerun.join(', ')}</strong></p>
    <p class="muted">Kept: ${plan.kept.length ? plan.kept.map((t) => t.taskId).join(', ') : 'none'}</p>
  </div>`;
}
