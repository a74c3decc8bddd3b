/** The operators' activities (src/sdk/operators.ts), and the user tasks of every DAG file. */
import type { PoolFor } from '../connections';
import { createCommandOperator } from './command';
import type { DagFolders } from './dag-folder';
import { createHttpOperator } from './http';
import { createSqlOperator } from './sql';

export interface OperatorDeps {
  poolFor: PoolFor;
  connections: Record<string, string>;
  folders: DagFolders;
}

export function createOperatorActivities({ poolFor, connections, folders }: OperatorDeps) {
  return {
    operatorSql: createSqlOperator(poolFor, folders),
    operatorCommand: createCommandOperator(),
    operatorHttp: createHttpOperator(connections),
  };
}
