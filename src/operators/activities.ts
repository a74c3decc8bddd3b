/**
 * The operators' activities, by name: where each operator does its work on the worker. An
 * operator's own activity is registered as `operator<Name>` (operatorSql, operatorLoadCsv), the
 * type its step calls and its tasks' histories record. Node code: the workflows import it as
 * types only.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { createMailActivities } from '../../activities/mail';
import type { createSensorActivities } from '../../activities/sensors';
import type { PoolFor } from '../data/connections';
import type { DagFolders } from '../../activities/operators/dag-folder';
import { secretMasker } from '../../activities/notify';
import type { OperatorInput } from './common';
import type { Config } from '../config';
import type { DagDefinition } from '../dags';
import { createCommandOperator } from './command/activity';
import { createDbtOperator } from './dbt/activity';
import type { OperatorName } from './definitions';
import { createDuckdbOperator } from './duckdb/activity';
import { createHttpOperator } from './http/activity';
import { createLoadCsvOperator } from './load-csv/activity';
import { createSqlOperator } from './sql/activity';
import { createTriggerDagOperator } from './trigger-dag/activity';
import { createWaitForDagOperator } from './wait-for-dag/activity';

export type { OperatorInput } from './common';

/** What the worker wires once for the operators' activities. */
export interface OperatorDeps {
  poolFor: PoolFor;
  connections: Record<string, string>;
  folders: DagFolders;
  config: Pick<Config, 'dataDir' | 'dbt' | 'databaseUrl' | 'webUiUrl' | 'temporal'>;
  logger: Logger;
  /** The worker's Temporal client, and the DAGs it serves by dag_id (on its task queue): what triggerDag starts and waitForDag waits for. */
  client: Client;
  dags: ReadonlyMap<string, DagDefinition>;
}

/** An operator's own activity, made once with the worker's clients. */
export type OperatorActivityFactory = (deps: OperatorDeps) => (input: never) => Promise<unknown>;

/** Baton's activities that the hand-written workflows call too (sensor checks, alert mail). */
type SharedActivity = keyof ReturnType<typeof createSensorActivities> | keyof ReturnType<typeof createMailActivities>;

/**
 * Where an operator does its work on the worker: its own activity; Baton's activities it shares
 * with the hand-written workflows; the DAG's own functions, which the worker registers for each
 * DAG file (src/dag-files.ts); or `none`, its step deciding in the workflow.
 */
export type OperatorActivity = OperatorActivityFactory | { shared: readonly SharedActivity[] } | 'per DAG' | 'none';

/** Every operator's activity: an operator without an entry does not compile. */
export const OPERATOR_ACTIVITIES = {
  sql: ({ poolFor, folders }) => createSqlOperator(poolFor, folders),
  loadCsv: ({ poolFor, config }) => createLoadCsvOperator(poolFor('warehouse'), config.dataDir),
  dbt: ({ config, logger, folders }) => createDbtOperator(config, logger, folders),
  command: () => createCommandOperator(),
  http: ({ connections }) => createHttpOperator(connections),
  duckdb: ({ config }) => createDuckdbOperator(config.dataDir),
  fileSensor: { shared: ['checkFile', 'pokeFile'] },
  sqlSensor: { shared: ['checkSql'] },
  branch: 'none',
  shortCircuit: 'none',
  approval: { shared: ['sendAlert'] },
  notify: { shared: ['sendAlert'] },
  task: 'per DAG',
  triggerDag: ({ client, dags, config }) => createTriggerDagOperator(client, dags, config),
  waitForDag: ({ client, dags }) => createWaitForDagOperator(client, dags),
  empty: 'none',
} satisfies { [K in OperatorName]: OperatorActivity };

type Table = typeof OPERATOR_ACTIVITIES;
/** The activity type of an operator's own activity. */
export type OperatorActivityType<K extends string> = `operator${Capitalize<K>}`;

/** The operators' own activities, by activity type. */
export type OperatorActivities = {
  [K in OperatorName as Table[K] extends OperatorActivityFactory ? OperatorActivityType<K> : never]: Table[K] extends OperatorActivityFactory
    ? ReturnType<Table[K]>
    : never;
};

export const operatorActivityType = <K extends string>(operator: K) => `operator${operator[0].toUpperCase()}${operator.slice(1)}` as OperatorActivityType<K>;

/** The activity types of the operators that have their own. */
export const operatorActivityTypes = (): string[] =>
  Object.entries(OPERATOR_ACTIVITIES)
    .filter(([, activity]) => typeof activity === 'function')
    .map(([operator]) => operatorActivityType(operator));

/**
 * The operators' own activities, wired once with the worker's clients. Each try leaves one line in
 * the worker's log naming its DAG, task, run and try, how long it took and, when it failed, why
 * (secrets masked): the task's lines a console shows.
 */
export function createOperatorActivities(deps: OperatorDeps): OperatorActivities {
  const activities: Record<string, unknown> = {};
  const mask = secretMasker({ mail: { smtpUrl: process.env.SMTP_URL, from: '' }, connections: deps.connections, databaseUrl: deps.config.databaseUrl });
  for (const [operator, activity] of Object.entries(OPERATOR_ACTIVITIES)) {
    if (typeof activity !== 'function') continue;
    const run = activity(deps) as (input: OperatorInput) => Promise<unknown>;
    activities[operatorActivityType(operator)] = async (input: OperatorInput) => {
      const at = { dagId: input.dagId, taskId: input.taskId, ds: input.ds, ...(input.ts ? { ts: input.ts } : {}), attempt: input.attempt };
      const started = Date.now();
      try {
        const result = await run(input);
        deps.logger.info({ ...at, ms: Date.now() - started }, `${operator}: try ${input.attempt} succeeded`);
        return result;
      } catch (err) {
        deps.logger.warn({ ...at, ms: Date.now() - started, error: mask((err as Error).message ?? String(err)) }, `${operator}: try ${input.attempt} failed`);
        throw err;
      }
    };
  }
  return activities as OperatorActivities;
}
