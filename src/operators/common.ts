/**
 * What the operators' definitions share: the settings every task takes, the pieces their own
 * settings are made of (a duration, a connection name, a path under a folder), and the two
 * sensors' settings and output. Pure (zod): the SDK and the workflow sandbox import it.
 */
import { z } from 'zod';
import { ASSET_NAME } from '../sdk/assets';

export const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 5m or 1h');
export const connName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a connection name: lower-case letters, digits and _');
export const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), 'a relative path without ..');
/** A function of the run, as the SDK makes it from the DAG file's function of inputs and run. */
export const runFunction = z.custom((f) => typeof f === 'function', 'a function of the run');
/** An asset's name (src/sdk/assets.ts): `warehouse.orders`. */
export const assetName = z.string().regex(ASSET_NAME, 'an asset name: a letter, then letters, digits, _ . : and -, 200 at most');
const callback = z.union([z.object({ notify: z.array(z.string().email()).min(1) }).strict(), z.object({ task: z.string().min(1) }).strict()]);

const NOTIFIER_EVENT = z.enum(['failure', 'retry', 'empty', 'deadline', 'approval', 'success']);
/** A notifier (src/sdk/types.ts): a webhook on a named connection, or mail; and the events it is told of. */
export const notifier = z.union([
  z.object({ webhook: connName, on: z.array(NOTIFIER_EVENT).min(1) }).strict(),
  z.object({ email: z.array(z.string().email()).min(1), on: z.array(NOTIFIER_EVENT).min(1) }).strict(),
]);
/** A deadline (src/sdk/types.ts): within a duration after the logical date, the interval's end or the run's start. */
export const deadline = z.object({ after: z.enum(['logical_date', 'data_interval_end', 'run_start']), within: duration }).strict();

/** What every task takes (TaskBase in src/sdk/types.ts): spread into each operator's schema. */
export const common = {
  operator: z.string(),
  upstream: z.array(z.string()).optional(),
  triggerRule: z.string().optional(),
  teardown: z.boolean().optional(),
  setup: z.boolean().optional(),
  doc: z.string().optional(),
  outlets: z
    .array(assetName)
    .refine((names) => new Set(names).size === names.length, 'an asset is named twice')
    .optional(),
  summary: z.function().optional(),
  skipIf: z.function().optional(),
  inputs: z.record(z.string(), z.object({ $ref: z.array(z.string()).min(1), optional: z.literal(true).optional() }).strict()).optional(),
  retries: z.number().int().min(0).max(100).optional(),
  retryDelay: duration.optional(),
  retryExponentialBackoff: z.boolean().optional(),
  maxRetryDelay: duration.optional(),
  executionTimeout: duration.optional(),
  priorityWeight: z.number().int().min(1).max(1000).optional(),
  onFailure: callback.optional(),
  onRetry: callback.optional(),
  onSuccess: callback.optional(),
  notifiers: z.array(notifier).optional(),
  deadline: deadline.optional(),
};

/** What a sensor takes besides what it waits for (Airflow's BaseSensorOperator). */
export const sensorSettings = {
  mode: z.enum(['poke', 'reschedule', 'deferrable']).optional(),
  pokeInterval: duration.optional(),
  timeout: duration.optional(),
  softFail: z.boolean().optional(),
};

/** fileSensor, sqlSensor: how many checks it took. */
export interface SensorOutput {
  checks: number;
}

/** What every operator activity is given besides its task's settings. */
export interface OperatorInput {
  dagId: string;
  taskId: string;
  ds: string;
  /** A sub-daily run's logical timestamp (what names it). */
  ts?: string;
  /** The engine's try number, 1 for the first. */
  attempt: number;
}
