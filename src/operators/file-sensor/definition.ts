/** The `fileSensor` operator's settings, output and templates, and its builder: waits for a file under the data directory. Pure. */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, duration, relativePath, sensorSettings, type SensorOutput } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface FileSensorTask extends TaskBase {
  operator: 'fileSensor';
  /** The path under the data directory (templated). */
  path: string;
  /** How long the file must stay unchanged; `5s` by default. */
  settle?: string;
  /** `reschedule` (the default: a timer between checks), `poke` (one long activity) or `deferrable` (local checks). */
  mode?: 'poke' | 'reschedule' | 'deferrable';
  pokeInterval?: string;
  timeout?: string;
  softFail?: boolean;
}

export const fileSensorDefinition: OperatorDefinition<FileSensorTask, SensorOutput> = {
  operator: 'fileSensor',
  settings: z.object({ ...common, ...sensorSettings, path: relativePath, settle: duration.optional() }).strict(),
  outputFields: ['checks'],
  templates: (task) => [task.path],
};

/** Waits for a file under the data directory (Airflow's FileSensor). */
export const fileSensor = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<FileSensorTask, I, SensorOutput>) =>
  declare('fileSensor', taskId, settings) as TaskOf<SensorOutput>;
