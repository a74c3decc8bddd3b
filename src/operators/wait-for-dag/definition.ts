/**
 * The `waitForDag` operator's settings, output and templates, and its builder: Airflow's
 * ExternalTaskSensor, a sensor that waits for another DAG's run for a logical date (or for one
 * task of that run) to succeed. Which run that is, run.ts says. Pure.
 */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, sensorSettings } from '../common';
import type { OperatorDefinition } from '../definitions';

/** How far the waited-for run's logical date is from `ds`, signed: `{ days: -1 }` is the day before (Airflow's execution_delta, negated). */
export interface RunShift {
  days?: number;
  hours?: number;
}

export interface WaitForDagTask extends TaskBase {
  operator: 'waitForDag';
  /** The DAG whose run it waits for: the dag_id of another DAG of this project. */
  dag: string;
  /** A task of that DAG: wait for that task of the run instead of the whole run. */
  task?: string;
  /** The logical date of the run (templated): YYYY-MM-DD, or a sub-daily run's YYYY-MM-DDTHH:MM:SS+00:00; this run's ds by default. */
  ds?: string;
  /** Moves `ds` to the run waited for, e.g. `{ days: -1 }`; a date moves by whole days. */
  shift?: RunShift;
  /** `reschedule` (the default: a check, then a workflow timer) or `deferrable` (local checks, durable timers). */
  mode?: 'reschedule' | 'deferrable';
  pokeInterval?: string;
  timeout?: string;
  /** A time-out skips the task (and what depends on it) instead of failing it. */
  softFail?: boolean;
  /** Double the interval after each check that finds the run not done, up to the time-out. */
  exponentialBackoff?: boolean;
}

/** waitForDag: the run it waited for, and how many checks it took. */
export interface WaitForDagOutput {
  dagId: string;
  /** The run's logical date (or time), shifted. */
  ds: string;
  workflowId: string;
  /** `success`: a run (or task) that failed fails this task, one that was skipped skips it. */
  state: 'success';
  checks: number;
}

export const waitForDagDefinition: OperatorDefinition<WaitForDagTask, WaitForDagOutput> = {
  operator: 'waitForDag',
  settings: z
    .object({
      ...common,
      ...sensorSettings,
      // Its checks are short reads of another run: no poke mode holding a worker slot for a whole run.
      mode: z.enum(['reschedule', 'deferrable']).optional(),
      exponentialBackoff: z.boolean().optional(),
      dag: z.string().regex(/^[A-Za-z0-9_.-]{1,250}$/, "a DAG's dag_id"),
      task: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]{0,99}(\.[A-Za-z][A-Za-z0-9_]{0,99})*$/, "a task id of that DAG (a group's task: load.region_eu)")
        .max(250)
        .optional(),
      ds: z.string().min(1).optional(),
      shift: z.object({ days: z.number().int().optional(), hours: z.number().int().optional() }).strict().optional(),
    })
    .strict(),
  outputFields: ['dagId', 'ds', 'workflowId', 'state', 'checks'],
  templates: (task) => (task.ds !== undefined ? [task.ds] : []),
};

/** Waits for another DAG's run for a logical date, or for one task of it, to succeed (Airflow's ExternalTaskSensor). */
export const waitForDag = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<WaitForDagTask, I, WaitForDagOutput>) =>
  declare('waitForDag', taskId, settings) as TaskOf<WaitForDagOutput>;
