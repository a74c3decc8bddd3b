/**
 * A DAG's own tasks bound to the context the worker gives them (its connections, logger, data
 * directory, dbt and metrics: src/operators/task/activity.ts), so a test calls them as it calls
 * activities, in a mock activity environment or not.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { ownTaskContext } from '../../src/operators/task/activity';
import type { Config } from '../../src/config';
import { createConnections } from '../../src/data/connections';
import type { TaskContext } from '../../src/task/context';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OwnTask = (args: any, context: TaskContext) => unknown;

export interface BindOptions {
  dagId: string;
  /** The DAG's folder: where its dbt project is. */
  folder: string;
  pool: Pool;
  config: Config;
  logger: Logger;
}

/** Each task of `tasks` taking its args alone; its task id is its name, its ds the args' ds. */
export function boundTasks<M extends Record<string, unknown>>(
  tasks: M,
  { dagId, folder, pool, config, logger }: BindOptions,
): { [K in keyof M as M[K] extends OwnTask ? K : never]: M[K] extends (args: infer A, context: TaskContext) => infer R ? (args: A) => R : never } {
  const clients = { pool, connection: createConnections(pool, config.connections), config, logger };
  const bound = Object.entries(tasks)
    .filter((e): e is [string, OwnTask] => typeof e[1] === 'function')
    .map(([name, fn]) => [
      name,
      (args: unknown) => {
        const ds = typeof (args as { ds?: unknown })?.ds === 'string' ? (args as { ds: string }).ds : '';
        return fn(args, ownTaskContext({ dagId, taskId: name, ds, attempt: 1, args }, clients, folder));
      },
    ]);
  return Object.fromEntries(bound) as never;
}
