/** The `shortCircuit` operator's settings and output, and its builder: skips what follows when a function says so. Pure. */
import { z } from 'zod';
import { declare, type DecidingSettings, type NoInputs, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { RunContext, TaskBase } from '../../sdk/types';
import { common, runFunction } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface ShortCircuitTask extends TaskBase {
  operator: 'shortCircuit';
  /** False: everything downstream is skipped. */
  condition: (run: RunContext) => boolean;
}

/** shortCircuit: whether what follows runs. */
export interface ShortCircuitOutput {
  condition: boolean;
}

export const shortCircuitDefinition: OperatorDefinition<ShortCircuitTask, ShortCircuitOutput> = {
  operator: 'shortCircuit',
  settings: z.object({ ...common, condition: runFunction }).strict(),
  outputFields: ['condition'],
  templates: () => [],
};

/** Skips everything downstream when `condition` is false (Airflow's ShortCircuitOperator). */
export const shortCircuit = <I extends Inputs = NoInputs>(taskId: string, settings: DecidingSettings<I, ShortCircuitOutput, 'condition', boolean>) =>
  declare('shortCircuit', taskId, settings) as TaskOf<ShortCircuitOutput>;
