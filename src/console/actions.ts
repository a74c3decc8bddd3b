/**
 * The console's actions on a run and its tasks (clear with a preview, mark, answer an approval,
 * cancel, rerun), on a DAG's schedule (pause, unpause) and its backfills. Each calls the operation
 * the CLI calls, with who asked and the reason the form asked for.
 */
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Context, Hono } from 'hono';
import { backfillProgress, planBackfill, startBackfill } from '../backfill';
import type { ClearSelection, GraphTask } from '../clear';
import type { Config } from '../config';
import { MARKABLE_STATES, WorkflowTypes, type BackfillProgress, type MarkableState, type Operator, type RerunPolicy } from '../contracts';
import { answerApproval, cancelRun, clearRuns, markTask, planClears, rerunRun } from '../run-operations';
import { notServed } from '../run-checks';
import type { CompiledDag } from '../sdk/compile';
import type { Html } from './html';
import { backfillList, backfillPage } from './pages';
import { clearPreview, outcome } from './panels';
import { ActionError, checked, formOf, type Env, type Form } from './routing';
import { layout, pauseSwitch, type PageContext } from './views';

/** What the actions need of the app: its client and settings, and how it answers and reads a request. */
export interface ActionContext {
  client: Client;
  config: Config;
  page: (c: Context<Env>) => PageContext;
  respond: (c: Context<Env>, title: string, fragment: Html, status?: 200 | 404 | 422) => Response | Promise<Response>;
  operatorOf: (c: Context<Env>, form: Form) => Operator;
  dagOf: (c: Context<Env>) => CompiledDag;
  graphOf: (dag: CompiledDag) => GraphTask[];
}

export function addActionRoutes(app: Hono<Env>, { client, config, page, respond, operatorOf, dagOf, graphOf }: ActionContext): void {
  app.post('/dags/:dag/runs/:key/tasks/:task/clear', async (c) => {
    const dag = dagOf(c);
    const form = await formOf(c);
    const taskId = c.req.param('task');
    const selection: ClearSelection = {
      task: taskId,
      downstream: checked(form.downstream),
      upstream: checked(form.upstream),
      failedOnly: checked(form.failedOnly),
    };
    const preview = c.req.query('preview') === '1' || form.preview === '1';
    const operator = preview ? undefined : operatorOf(c, form);
    const [target] = await planClears(client, dag.definition, graphOf(dag), [c.req.param('key')], selection);
    if (preview || target.refused) return respond(c, 'Clear', clearPreview(target));
    const failures: Array<{ workflowId: string; error: string }> = [];
    const started = await clearRuns(client, config, dag.definition, [target], operator!, failures);
    if (failures.length)
      return respond(
        c,
        'Clear',
        outcome(
          false,
          failures.map((f) => `${f.workflowId}: ${f.error}`),
        ),
      );
    return respond(c, 'Clear', outcome(true, [`cleared ${target.workflowId}: ${target.plan!.rerun.join(', ')} run again (run ${started[0]?.runId ?? ''})`]));
  });

  app.post('/dags/:dag/runs/:key/tasks/:task/mark', async (c) => {
    const dag = dagOf(c);
    const form = await formOf(c);
    const state = String(form.state ?? '') as MarkableState;
    if (!MARKABLE_STATES.includes(state)) throw new ActionError(`a task is marked ${MARKABLE_STATES.join(', ')}, not ${JSON.stringify(state)}`);
    const done = await markTask(client, config, dag.definition, graphOf(dag), c.req.param('key'), c.req.param('task'), state, operatorOf(c, form));
    const line =
      done.kind === 'updated'
        ? `marked ${c.req.param('task')} ${state} in ${done.workflowId}`
        : `marked ${c.req.param('task')} ${state}; the run continues${done.rerun.length ? `, running ${done.rerun.join(', ')}` : ''}`;
    return respond(c, 'Mark', outcome(true, [line]));
  });

  app.post('/dags/:dag/runs/:key/tasks/:task/answer', async (c) => {
    const dag = dagOf(c);
    const form = await formOf(c);
    const decision = form.decision === 'reject' ? 'reject' : 'approve';
    const operator = operatorOf(c, form);
    const choose = [form.choose].flat().filter((v): v is string => typeof v === 'string');
    let value: unknown;
    if (decision === 'approve' && typeof form.value === 'string' && form.value.trim()) {
      try {
        value = JSON.parse(form.value);
      } catch (err) {
        throw new ActionError(`--value is not JSON: ${(err as Error).message}`);
      }
    }
    const said = await answerApproval(client, dag.definition, c.req.param('key'), {
      taskId: c.req.param('task'),
      decision,
      ...operator,
      ...(decision === 'approve' && choose.length ? { choose } : {}),
      ...(value !== undefined ? { value } : {}),
    });
    return respond(c, 'Answer', outcome(true, [said]));
  });

  app.post('/dags/:dag/runs/:key/cancel', async (c) => {
    const dag = dagOf(c);
    const at = await cancelRun(client, dag.definition, c.req.param('key'), operatorOf(c, await formOf(c)));
    return respond(c, 'Cancel', outcome(true, [`asked ${at.workflowId} to cancel`]));
  });

  app.post('/dags/:dag/runs/:key/rerun', async (c) => {
    const dag = dagOf(c);
    const run = await rerunRun(client, config, dag.definition, graphOf(dag), c.req.param('key'), operatorOf(c, await formOf(c)));
    return respond(c, 'Rerun', outcome(true, [`${run.workflowId} runs again (run ${run.runId})`]));
  });

  for (const action of ['pause', 'unpause'] as const) {
    app.post(`/dags/:dag/${action}`, async (c) => {
      const dag = dagOf(c);
      const operator = operatorOf(c, await formOf(c));
      const handle = client.schedule.getHandle(dag.dagId);
      const note = `${action}d by ${operator.by} in the console: ${operator.reason}`;
      try {
        await (action === 'pause' ? handle.pause(note) : handle.unpause(note));
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) throw new ActionError(`${dag.dagId} has no schedule to ${action}`);
        throw err;
      }
      return respond(c, dag.dagId, pauseSwitch(page(c), dag.dagId, action === 'pause'));
    });
  }

  // ---- Backfills ----
  const backfillsOf = async (dag: CompiledDag) => {
    const out: Array<{ workflowId: string; status: string; progress?: BackfillProgress }> = [];
    const prefix = `baton-backfill-${dag.dagId}-`;
    for await (const w of client.workflow.list({
      query: `WorkflowType = '${WorkflowTypes.dagBackfill}' AND WorkflowId STARTS_WITH '${prefix}'`,
      pageSize: 20,
    })) {
      const handle = client.workflow.getHandle(w.workflowId, w.runId);
      const progress =
        w.status.name === 'RUNNING'
          ? await backfillProgress(client, w.workflowId)
          : w.status.name === 'COMPLETED'
            ? ((await handle.result().catch(() => undefined)) as BackfillProgress | undefined)
            : undefined;
      out.push({ workflowId: w.workflowId, status: w.status.name, ...(progress ? { progress } : {}) });
      if (out.length >= 20) break;
    }
    return out;
  };

  app.get('/dags/:dag/backfill', async (c) => {
    const dag = dagOf(c);
    return c.html(layout(page(c), `Backfill ${dag.dagId}`, backfillPage(page(c), dag, await backfillsOf(dag))));
  });

  app.get('/dags/:dag/backfills', async (c) => c.html(backfillList(await backfillsOf(dagOf(c)))));

  app.post('/dags/:dag/backfill', async (c) => {
    const dag = dagOf(c);
    const form = await formOf(c);
    const operator = operatorOf(c, form);
    const rerun = String(form.rerun ?? 'none') as RerunPolicy;
    if (!['none', 'failed', 'all'].includes(rerun)) throw new ActionError(`dates that ran before: none, failed or all, not ${JSON.stringify(rerun)}`);
    const maxActive = Number(form.maxActive ?? 1);
    const request = { from: String(form.from ?? '').trim(), to: String(form.to ?? '').trim(), maxActive, rerun, reverse: false };
    const dates = planBackfill(dag.definition, request);
    const refusal = await notServed(config, dag.definition);
    if (refusal) throw new ActionError(refusal);
    const handle = await startBackfill(client, dag.definition, request, dates, undefined, operator);
    return respond(c, 'Backfill', outcome(true, [`started ${handle.workflowId}: ${dates.length} dates`]));
  });
}
