/**
 * The `triggerDag` operator's settings, output and templates, and its builder: Airflow's
 * TriggerDagRunOperator, a run of another DAG of the project for a date with conf, started once
 * (a run of that DAG and date already there is joined, not doubled), waited for or not. Pure.
 */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import { templatesIn } from '../../sdk/templates';
import type { TaskBase } from '../../sdk/types';
import { common } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface TriggerDagTask extends TaskBase {
  operator: 'triggerDag';
  /** The DAG to run: the dag_id of a DAG of this project. */
  dag: string;
  /** The logical date of its run (templated); this run's ds by default. */
  ds?: string;
  /** Its run's conf (templated values). */
  conf?: Record<string, unknown>;
  /** Wait for its run to end; its failure then fails this task. false by default. */
  wait?: boolean;
}

/** triggerDag: the run it started or joined, and with `wait` how it ended. */
export interface TriggerDagOutput {
  dagId: string;
  ds: string;
  workflowId: string;
  runId: string;
  /** `started` when not waited for; else `success` (a failed run fails the task). */
  state: 'started' | 'success';
}

export const triggerDagDefinition: OperatorDefinition<TriggerDagTask, TriggerDagOutput> = {
  operator: 'triggerDag',
  settings: z
    .object({
      ...common,
      dag: z.string().regex(/^[A-Za-z0-9_.-]{1,250}$/, "a DAG's dag_id"),
      ds: z.string().min(1).optional(),
      conf: z.record(z.string(), z.unknown()).optional(),
      wait: z.boolean().optional(),
    })
    .strict(),
  outputFields: ['dagId', 'ds', 'workflowId', 'runId', 'state'],
  templates: (task) => [...(task.ds !== undefined ? [task.ds] : []), ...templatesIn(task.conf ?? {})],
};

/** Starts a run of another DAG of the project (Airflow's TriggerDagRunOperator), once per DAG and date. */
export const triggerDag = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<TriggerDagTask, I, TriggerDagOutput>) =>
  declare('triggerDag', taskId, settings) as TaskOf<TriggerDagOutput>;
