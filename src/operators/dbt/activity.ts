/**
 * The `dbt` operator's activity: `dbt run`, `build`, `test` or `seed` with select, exclude, vars
 * and target, on the DAG's own dbt project (a folder of the DAG, `dbt/` by default, confined to it). Each
 * node's status comes from dbt's run_results.json; `dbt build` runs the project's tests beside
 * its models, and a failed test fails the task naming it. A failing node fails for good (it will
 * fail the same way again); dbt dying for another reason is retried by the task.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { dagDbtProject, DBT_OK_STATUSES, DBT_SELECTOR, dbtFailureDetail, invokeDbt, type DbtDeps } from '../../../activities/dbt';
import type { DagFolders } from '../../../activities/operators/dag-folder';
import { parseDs } from '../../logical-date';
import type { OperatorInput } from '../common';
import type { DbtOutput } from './definition';

export interface DbtOperatorInput extends OperatorInput {
  command: 'run' | 'build' | 'test' | 'seed';
  select?: string;
  exclude?: string;
  vars: Record<string, unknown>;
  target: string;
  /** The DAG's own project, relative to its folder; its `dbt/` when absent. */
  project?: string;
}

/** Nodes listed one by one in the output (XCom stays small); beyond, only their counts. */
const LISTED_NODES = 100;

export function createDbtOperator(config: DbtDeps['config'], logger: Logger, folders: DagFolders) {
  return async function operatorDbt(input: DbtOperatorInput): Promise<DbtOutput> {
    const ds = parseDs(input.ds);
    for (const [flag, value] of [
      ['select', input.select],
      ['exclude', input.exclude],
    ] as const) {
      if (value !== undefined && !DBT_SELECTOR.test(value))
        throw ApplicationFailure.nonRetryable(`${input.taskId}: dbt --${flag} ${JSON.stringify(value)} has characters dbt does not use`, 'InvalidSelector');
    }
    if (!/^[A-Za-z0-9_-]+$/.test(input.target))
      throw ApplicationFailure.nonRetryable(`${input.taskId}: dbt target ${JSON.stringify(input.target)}`, 'InvalidTarget');
    const { projectDir, profilesDir } = await dagDbtProject(config, folders, input.dagId, input.project ?? 'dbt', input.taskId);
    const args = [
      input.command,
      ...(input.select ? ['--select', input.select] : []),
      ...(input.exclude ? ['--exclude', input.exclude] : []),
      '--target',
      input.target,
      '--vars',
      JSON.stringify({ ...input.vars, ds }),
    ];
    const described = `dbt ${input.command}${input.select ? ` --select ${input.select}` : ''}${input.exclude ? ` --exclude ${input.exclude}` : ''} --target ${input.target}`;
    const result = await invokeDbt(config, { args, projectDir, profilesDir });
    const failed = result.nodes.filter((n) => !DBT_OK_STATUSES.has(n.status));
    if (result.exitCode !== 0 || failed.length) {
      const message = `${input.taskId}: ${described} exited ${result.exitCode}: ${dbtFailureDetail(result)}`;
      if (failed.length) throw ApplicationFailure.nonRetryable(message, 'DbtNodeFailed');
      throw ApplicationFailure.retryable(message, 'DbtFailed');
    }
    const statuses: Record<string, number> = {};
    for (const n of result.nodes) statuses[n.status] = (statuses[n.status] ?? 0) + 1;
    logger.info({ dagId: input.dagId, taskId: input.taskId, ds, statuses }, `${described} finished`);
    return {
      command: input.command,
      nodes: result.nodes.length <= LISTED_NODES ? Object.fromEntries(result.nodes.map((n) => [n.model, n.status])) : {},
      statuses,
    };
  };
}
