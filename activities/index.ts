import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../src/config';
import type { LoadedDag } from '../src/dag-files';
import { createAssetActivities } from './assets';
import { createCacheActivities } from './cache';
import { createConnections, type PoolFor } from '../src/data/connections';
import { createMailActivities } from './mail';
import { createNoopActivities } from './noop';
import { createNotifierActivities } from './notify';
import { createOperatorActivities } from '../src/operators/activities';
import { createSensorActivities } from './sensors';
import { createSettingsActivities } from './settings';
import { createTemporalActivities } from './temporal';

export interface ActivityDeps {
  pool: Pool;
  logger: Logger;
  config: Config;
  client: Client;
  /** The DAG files the worker loaded: where the operators find a DAG's own files. */
  dags?: readonly LoadedDag[];
  /** The pools of named connections, shared with the DAGs' own tasks (made here when absent). */
  poolFor?: PoolFor;
}

/** Every activity the worker registers, wired once with real clients. */
export function createActivities(deps: ActivityDeps) {
  const poolFor = deps.poolFor ?? createConnections(deps.pool, deps.config.connections);
  // The DAGs it serves, on its project's task queue: what triggerDag starts and an asset update may start.
  const definitions = (deps.dags ?? []).map((d) => ({ ...d.dag.definition, taskQueue: deps.config.project.taskQueue }));
  return {
    ...createMailActivities(deps),
    ...createNotifierActivities(deps),
    ...createSettingsActivities(deps),
    ...createTemporalActivities(deps),
    ...createSensorActivities({ ...deps, poolFor }),
    ...createCacheActivities(deps),
    ...createNoopActivities(),
    ...createAssetActivities({ client: deps.client, dags: definitions }),
    ...createOperatorActivities({
      poolFor,
      connections: deps.config.connections,
      folders: new Map((deps.dags ?? []).map((d) => [d.dag.dagId, d.folder])),
      config: deps.config,
      logger: deps.logger,
      client: deps.client,
      dags: new Map(definitions.map((d) => [d.dagId, d])),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
