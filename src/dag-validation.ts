/**
 * Checks a DAG definition before anything is created from it: a broken cron, an unknown
 * timezone, an impossible date or a setting a DAG scheduled on assets alone cannot have is
 * named, with the DAG it belongs to.
 */
import { z } from 'zod';
import type { DagDefinition } from './dags';
import { parseDs } from './logical-date';
import { nextFire, parseCron } from './cron';
import { findPool, pools } from './pools';

export class InvalidDagDefinition extends Error {
  override name = 'InvalidDagDefinition';
}

const realDate = z.string().refine((v) => {
  try {
    parseDs(v);
    return true;
  } catch {
    return false;
  }
}, 'a real date YYYY-MM-DD');

const DagSchema = z.object({
  // Airflow's dag_id characters, lower-case; a Prefect flow name such as daily-report fits too.
  dagId: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, starting with a letter'),
  workflowType: z.string().min(1),
  description: z.string(),
  schedule: z.string().min(1).nullable(),
  // Parsed by compile (src/sdk/assets.ts), which names a bad condition's position.
  assets: z.custom<NonNullable<DagDefinition['assets']>>((v) => !!v && typeof v === 'object', 'a parsed asset condition').optional(),
  timezone: z.string().min(1),
  timetable: z.enum(['interval', 'trigger']),
  startDate: realDate,
  endDate: realDate.optional(),
  catchup: z.boolean(),
  pausedOnCreation: z.boolean().optional(),
  maxActiveRuns: z.number().int().min(1).max(1000).nullable(),
  tags: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/)),
  defaultArgs: z.object({
    owner: z.string().min(1),
    dependsOnPast: z.boolean(),
    email: z.array(z.string().email()),
    emailOnFailure: z.boolean(),
    emailOnRetry: z.boolean(),
    retries: z.number().int().min(0).max(50),
    retryDelay: z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as 30s or 5m'),
  }),
  taskPools: z
    .record(
      z.string(),
      z.object({
        pool: z.string().refine((name) => findPool(name) !== undefined, `not a pool in src/pools.ts (${pools.map((p) => p.name).join(', ')})`),
        poolSlots: z.number().int().min(1).optional(),
        priorityWeight: z.number().finite().optional(),
      }),
    )
    .optional(),
  runArgs: z.record(z.string(), z.unknown()).optional(),
});

export function validateTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidDagDefinition(`unknown timezone ${JSON.stringify(timezone)} (an IANA name such as UTC or Europe/Berlin)`);
  }
}

/**
 * A cron Baton can make fire as Airflow would: five classic fields or a preset (see src/cron.ts)
 * that fires at all. One firing more than once a day names its runs by ts instead of ds.
 */
export function validateCron(schedule: string, timezone: string): void {
  try {
    parseCron(schedule);
    nextFire(schedule, timezone, Date.parse('2000-01-01T00:00:00Z'));
  } catch (err) {
    throw new InvalidDagDefinition(`schedule: ${(err as Error).message}`);
  }
}

/** Throws InvalidDagDefinition naming the DAG and every problem found. */
export function validateDag(dag: DagDefinition): DagDefinition {
  const where = `DAG ${JSON.stringify(dag.dagId)}`;
  const parsed = DagSchema.safeParse(dag);
  if (!parsed.success) {
    // Each problem names the field and the value found there.
    const valueAt = (keys: PropertyKey[]) =>
      keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), dag);
    const problems = parsed.error.issues.map((i) => {
      const value = valueAt(i.path);
      return `${i.path.join('.')}${value === undefined || typeof value === 'object' ? '' : ` ${JSON.stringify(value)}`}: ${i.message}`;
    });
    throw new InvalidDagDefinition(`${where}: ${problems.join('; ')}`);
  }
  try {
    validateTimezone(dag.timezone);
    if (dag.schedule !== null) validateCron(dag.schedule, dag.timezone);
  } catch (err) {
    throw new InvalidDagDefinition(`${where}: ${(err as Error).message}`);
  }
  if (dag.schedule === null) {
    // Without a cron there are no intervals: no previous one to wait for, none missed to catch up.
    if (!dag.assets) throw new InvalidDagDefinition(`${where}: schedule: a cron, or { assets: ... }`);
    if (dag.defaultArgs.dependsOnPast)
      throw new InvalidDagDefinition(`${where}: depends_on_past needs a cron: a DAG scheduled on assets alone has no previous interval (add or: '<cron>')`);
    if (dag.catchup) throw new InvalidDagDefinition(`${where}: catchup needs a cron: a DAG scheduled on assets alone has no missed intervals`);
  }
  for (const [taskId, { pool, poolSlots = 1 }] of Object.entries(dag.taskPools ?? {})) {
    const size = findPool(pool)!.slots;
    if (poolSlots > size) throw new InvalidDagDefinition(`${where}: taskPools.${taskId}.poolSlots ${poolSlots}: more than the ${size} slots of pool ${pool}`);
  }
  if (dag.endDate && dag.endDate < dag.startDate) throw new InvalidDagDefinition(`${where}: end_date ${dag.endDate} is before start_date ${dag.startDate}`);
  return dag;
}
