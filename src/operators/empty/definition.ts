/** The `empty` operator: does nothing, a join or a marker (Airflow's EmptyOperator). Pure. */
import { z } from 'zod';
import { declare, type NoInputs, type TaskOf, type TaskSettings } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface EmptyTask extends TaskBase {
  operator: 'empty';
}

/** empty: nothing. */
export type EmptyOutput = Record<never, never>;

export const emptyDefinition: OperatorDefinition<EmptyTask, EmptyOutput> = {
  operator: 'empty',
  settings: z.object({ ...common }).strict(),
  outputFields: [],
  templates: () => [],
};

/** Does nothing: a join or a marker (Airflow's EmptyOperator). */
export const empty = <I extends Inputs = NoInputs>(taskId: string, settings: TaskSettings<I, EmptyOutput> = {}) =>
  declare('empty', taskId, settings) as TaskOf<EmptyOutput>;
