import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../src/config';
import { createDbtActivities } from './dbt';
import { createMailActivities } from './mail';
import { createPostgresActivities } from './postgres';
import { createSettingsActivities } from './settings';

export interface ActivityDeps {
  pool: Pool;
  logger: Logger;
  config: Config;
}

/** Every activity the worker registers, wired once with real clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createPostgresActivities(deps),
    ...createDbtActivities(deps),
    ...createMailActivities(deps),
    ...createSettingsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
