/**
 * One try of a DAG file's task: each operator as its configured activity, with its settings
 * rendered from the run's templates (so the history shows what ran), or, for empty, branch and
 * shortCircuit, a pure function run in the workflow. The engine (engine.ts) owns retries,
 * callbacks and the task table around it.
 */
import type { Duration } from '@temporalio/common';
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OperatorInput } from '../activities/operators/contracts';
import { temporalPriorityKey } from '../src/pools';
import { userActivityType, type CompiledDag, type CompiledTask } from '../src/sdk/compile';
import { parameterize, render, renderDeep, renderSqlText, type TemplateContext } from '../src/sdk/templates';
import type { RunContext, UserTask } from '../src/sdk/types';
import type { DagRunContext } from './dag';
import { fileSensor, sqlSensorQuery, type SensorOptions, type SensorOutcome } from './sensors';
import { alerts, DATA_TASK_HEARTBEAT_TIMEOUT } from './task-options';

export interface ResolvedOptions {
  attempts: number;
  delayMs: number;
  backoff: boolean;
  maxDelayMs: number;
  timeout: Duration;
  priorityWeight?: number;
}

/** One try of the task: an operator's activity, or the pure function of a branch. */
export async function runOperator(
  dag: CompiledDag,
  task: CompiledTask,
  run: DagRunContext,
  ctx: RunContext,
  options: ResolvedOptions,
  attempt: number,
): Promise<unknown> {
  const definition = task.definition;
  const base: Omit<OperatorInput, 'settings'> = { dagId: dag.dagId, taskId: task.taskId, ds: run.ds, attempt };
  const acts = proxyActivities<Activities>({
    startToCloseTimeout: options.timeout,
    heartbeatTimeout: (run.settings.heartbeatTimeout ?? DATA_TASK_HEARTBEAT_TIMEOUT) as Duration,
    // The engine retries (so on_retry and the task table see each try); the server never does.
    retry: { maximumAttempts: 1 },
    ...(options.priorityWeight !== undefined ? { priority: { priorityKey: temporalPriorityKey(options.priorityWeight) } } : {}),
    // The Web UI's line for the activity: the task's doc (templated), or its operator.
    summary: `${task.taskId}: ${definition.doc ? render(definition.doc, ctx) : definition.operator}`,
  });
  const templates: TemplateContext = ctx;
  switch (definition.operator) {
    case 'empty':
      return {};
    case 'branch': {
      const chosen = definition.choose(ctx);
      const follow = typeof chosen === 'string' ? [chosen] : [...chosen];
      const wrong = follow.filter((id) => !task.downstream.includes(id));
      if (wrong.length) {
        throw ApplicationFailure.nonRetryable(
          `branch chose ${wrong.join(', ')}, not directly downstream of ${task.taskId} (${task.downstream.join(', ') || 'none'})`,
          'BranchError',
        );
      }
      return { follow };
    }
    case 'shortCircuit':
      return { condition: definition.condition(ctx) === true };
    case 'sql': {
      const statement = typeof definition.sql === 'string' ? parameterize(definition.sql, templates) : undefined;
      return acts.operatorSql({
        ...base,
        conn: definition.conn,
        output: definition.output ?? 'rowCount',
        ...(statement ? { statement } : { file: (definition.sql as { file: string }).file, templates }),
      });
    }
    case 'command':
      return acts.operatorCommand({
        ...base,
        argv: definition.argv.map((a) => render(a, templates)),
        env: Object.fromEntries(Object.entries(definition.env ?? {}).map(([k, v]) => [k, render(v, templates)])),
        ...(definition.cwd ? { cwd: definition.cwd } : {}),
      });
    case 'http':
      return acts.operatorHttp({
        ...base,
        conn: definition.conn,
        method: definition.method ?? (definition.json === undefined ? 'GET' : 'POST'),
        path: render(definition.path, templates),
        ...(definition.json !== undefined ? { json: renderDeep(definition.json, templates) } : {}),
        expectStatus:
          definition.expectStatus === undefined ? [] : typeof definition.expectStatus === 'number' ? [definition.expectStatus] : [...definition.expectStatus],
      });
    case 'notify':
      return alerts.sendAlert.executeWithOptions({ summary: `${task.taskId}: mail to ${definition.to.join(', ')}` }, [
        { dagId: dag.dagId, ds: run.ds, to: [...definition.to], subject: render(definition.subject, templates), body: render(definition.body, templates) },
      ]);
    case 'fileSensor': {
      const outcome = await fileSensor(
        { pathTemplate: render(definition.path, templates), settle: definition.settle ?? '5s' },
        sensorOptions(definition, 'reschedule'),
        run,
      );
      return sensorOutput(outcome);
    }
    case 'sqlSensor': {
      const { text, values } = parameterize(definition.sql, templates);
      const outcome = await sqlSensorQuery(
        { connId: definition.conn, text, params: values.map((v) => (v === null || v === undefined ? v : String(v))) as string[] },
        sensorOptions(definition, 'reschedule'),
        run,
      );
      return sensorOutput(outcome);
    }
    case 'loadCsv':
      return acts.operatorLoadCsv({
        ...base,
        file: render(definition.file, templates),
        contract: definition.contract,
        table: definition.table,
        mode: definition.mode ?? 'replace',
        ...(definition.maxRejectedRatio !== undefined ? { maxRejectedRatio: definition.maxRejectedRatio } : {}),
        ...(definition.allowEmpty ? { allowEmpty: true } : {}),
      });
    case 'dbt':
      return acts.operatorDbt({
        ...base,
        command: definition.command,
        ...(definition.select ? { select: render(definition.select, templates) } : {}),
        ...(definition.exclude ? { exclude: render(definition.exclude, templates) } : {}),
        vars: (renderDeep(definition.vars ?? {}, templates) ?? {}) as Record<string, unknown>,
        target: definition.target ?? run.settings.dbtTarget,
        ...(definition.project ? { project: definition.project } : {}),
      });
    case 'duckdb':
      return acts.operatorDuckdb({ ...base, sql: renderSqlText(definition.sql, templates), output: render(definition.output, templates) });
    case 'task': {
      const activity = (acts as unknown as Record<string, (input: unknown) => Promise<unknown>>)[userActivityType(dag.dagId, definition.activity)];
      return activity({ ...base, args: userTaskArgs(definition, ctx) });
    }
    default:
      throw ApplicationFailure.nonRetryable(
        `${task.taskId}: unknown operator ${JSON.stringify((definition as { operator: string }).operator)}`,
        'DagDefinitionError',
      );
  }
}

/** A user task's argument: its function's value, or its data with the templates rendered. */
export function userTaskArgs(definition: UserTask, ctx: RunContext): unknown {
  return typeof definition.args === 'function' ? (definition.args as (run: RunContext) => unknown)(ctx) : renderDeep(definition.args ?? null, ctx);
}

/** A sensor's settings with Airflow's defaults: poke every 60 s, for at most 7 days. */
function sensorOptions(
  definition: { mode?: SensorOptions['mode']; pokeInterval?: string; timeout?: string; softFail?: boolean },
  mode: SensorOptions['mode'],
): SensorOptions {
  return {
    mode: definition.mode ?? mode,
    pokeInterval: definition.pokeInterval ?? '60s',
    timeout: definition.timeout ?? '7d',
    softFail: definition.softFail ?? false,
  };
}

/** What a sensor hands on: its checks, and why it skipped when a soft fail timed out. */
const sensorOutput = (outcome: SensorOutcome) => (outcome.found ? { checks: outcome.checks } : { checks: outcome.checks, skipped: outcome.reason });
