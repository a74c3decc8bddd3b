/** The operators' activities (src/sdk/operators.ts), and the user tasks of every DAG file. */
import type { Logger } from 'pino';
import type { Config } from '../../src/config';
import type { PoolFor } from '../../src/data/connections';
import { createDbtOperator } from './dbt';
import { createDuckdbOperator } from './duckdb';
import { createLoadCsvOperator } from './load-csv';
import { createCommandOperator } from './command';
import type { DagFolders } from './dag-folder';
import { createHttpOperator } from './http';
import { createSqlOperator } from './sql';

export interface OperatorDeps {
  poolFor: PoolFor;
  connections: Record<string, string>;
  folders: DagFolders;
  config: Pick<Config, 'dataDir' | 'dbt' | 'databaseUrl'>;
  logger: Logger;
}

export function createOperatorActivities({ poolFor, connections, folders, config, logger }: OperatorDeps) {
  return {
    operatorLoadCsv: createLoadCsvOperator(poolFor('warehouse'), config.dataDir),
    operatorDbt: createDbtOperator(config, logger, folders),
    operatorDuckdb: createDuckdbOperator(config.dataDir),
    operatorSql: createSqlOperator(poolFor, folders),
    operatorCommand: createCommandOperator(),
    operatorHttp: createHttpOperator(connections),
  };
}
