/** The `branch` operator's settings and output, and its builder: follows the tasks a function chooses. Pure. */
import { z } from 'zod';
import { declare, type DecidingSettings, type NoInputs, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { RunContext, TaskBase } from '../../sdk/types';
import { common, runFunction } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface BranchTask extends TaskBase {
  operator: 'branch';
  /** The task ids to follow (immediately downstream of this one); the others are skipped. */
  choose: (run: RunContext) => string | readonly string[];
}

/** branch: the task ids it followed. */
export interface BranchOutput {
  follow: string[];
}

export const branchDefinition: OperatorDefinition<BranchTask, BranchOutput> = {
  operator: 'branch',
  settings: z.object({ ...common, choose: runFunction }).strict(),
  outputFields: ['follow'],
  templates: () => [],
};

/** Follows the task ids `choose` returns, of those directly downstream (Airflow's BranchPythonOperator). */
export const branch = <I extends Inputs = NoInputs>(taskId: string, settings: DecidingSettings<I, BranchOutput, 'choose', string | readonly string[]>) =>
  declare('branch', taskId, settings) as TaskOf<BranchOutput>;
