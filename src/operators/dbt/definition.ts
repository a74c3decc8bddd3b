/** The `dbt` operator's settings, output and templates, and its builder: dbt run, build, test or seed. Pure. */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import { templatesIn } from '../../sdk/templates';
import type { TaskBase } from '../../sdk/types';
import { common, relativePath } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface DbtTask extends TaskBase {
  operator: 'dbt';
  command: 'run' | 'build' | 'test' | 'seed';
  select?: string;
  exclude?: string;
  /** dbt --vars (templated); `ds` is always passed. */
  vars?: Record<string, unknown>;
  target?: string;
  /** The dbt project folder, relative to the DAG's folder; its `dbt/` by default. */
  project?: string;
}

/** dbt: each node's status. */
export interface DbtOutput {
  command: string;
  /** Each node's status by name (when there are at most 100 nodes). */
  nodes: Record<string, string>;
  /** How many nodes ended in each status. */
  statuses: Record<string, number>;
}

export const dbtDefinition: OperatorDefinition<DbtTask, DbtOutput> = {
  operator: 'dbt',
  settings: z
    .object({
      ...common,
      select: z
        .string()
        .regex(/^[A-Za-z0-9_:+.,*@ {}-]+$/, 'a dbt selector (letters, digits, _ : + . , * @ and spaces)')
        .optional(),
      exclude: z
        .string()
        .regex(/^[A-Za-z0-9_:+.,*@ {}-]+$/, 'a dbt selector')
        .optional(),
      command: z.enum(['run', 'build', 'test', 'seed']),
      vars: z.record(z.string(), z.unknown()).optional(),
      target: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/)
        .optional(),
      project: relativePath.optional(),
    })
    .strict(),
  outputFields: ['command', 'nodes', 'statuses'],
  templates: (task) => templatesIn(task.vars ?? {}),
};

/** dbt run, build, test or seed. Output: each node's status. */
export const dbt = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<DbtTask, I, DbtOutput>) =>
  declare('dbt', taskId, settings) as TaskOf<DbtOutput>;
