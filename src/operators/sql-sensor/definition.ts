/** The `sqlSensor` operator's settings, output and templates, and its builder: waits until a query's first value is truthy. Pure. */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, connName, sensorSettings, type SensorOutput } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface SqlSensorTask extends TaskBase {
  operator: 'sqlSensor';
  conn: string;
  /** Succeeds when the first column of the first row is truthy (templated, bound parameters). */
  sql: string;
  mode?: 'reschedule' | 'deferrable';
  pokeInterval?: string;
  timeout?: string;
  softFail?: boolean;
}

export const sqlSensorDefinition: OperatorDefinition<SqlSensorTask, SensorOutput> = {
  operator: 'sqlSensor',
  // Its checks are short queries: no poke mode holding a worker slot.
  settings: z.object({ ...common, ...sensorSettings, mode: z.enum(['reschedule', 'deferrable']).optional(), conn: connName, sql: z.string().min(1) }).strict(),
  outputFields: ['checks'],
  templates: (task) => [task.sql],
};

/** Waits until a query's first value is truthy (Airflow's SqlSensor). */
export const sqlSensor = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<SqlSensorTask, I, SensorOutput>) =>
  declare('sqlSensor', taskId, settings) as TaskOf<SensorOutput>;
