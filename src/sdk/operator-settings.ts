/**
 * Each operator's settings, checked before anything runs: the field, the value found and what
 * was expected. Pure (zod).
 */
import { z } from 'zod';
import { validateContract } from '../column-contract';
import type { TaskDefinition } from './types';

const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 5m or 1h');
const connName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a connection name: lower-case letters, digits and _');
const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), 'a relative path without ..');
const callback = z.union([z.object({ notify: z.array(z.string().email()).min(1) }).strict(), z.object({ task: z.string().min(1) }).strict()]);

const common = {
  operator: z.string(),
  upstream: z.array(z.string()).optional(),
  triggerRule: z.string().optional(),
  teardown: z.boolean().optional(),
  doc: z.string().optional(),
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
};
const sensor = {
  mode: z.enum(['poke', 'reschedule', 'deferrable']).optional(),
  pokeInterval: duration.optional(),
  timeout: duration.optional(),
  softFail: z.boolean().optional(),
};

/** One query: it starts as a query does and holds no second statement. */
export function duckdbQueryProblem(sql: string): string | undefined {
  const body = sql.trim().replace(/;\s*$/, '');
  if (!/^(select|with|from|values|table)\b/i.test(body)) return 'the SQL must be one query (SELECT, WITH, FROM, VALUES)';
  const unquoted = body.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, '');
  if (unquoted.includes(';')) return 'the SQL must be one query, without ;';
  return undefined;
}

const SCHEMAS: Record<TaskDefinition['operator'], z.ZodType> = {
  sql: z
    .object({
      ...common,
      conn: connName,
      sql: z.union([z.string().min(1), z.object({ file: relativePath.refine((p) => p.endsWith('.sql'), 'a .sql file') }).strict()]),
      output: z.enum(['rowCount', 'firstRow', 'none']).optional(),
    })
    .strict(),
  loadCsv: z
    .object({
      ...common,
      file: relativePath,
      contract: z.custom((c) => {
        try {
          validateContract(c as never);
          return true;
        } catch {
          return false;
        }
      }, 'a valid column contract (src/column-contract.ts)'),
      table: z.string().regex(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/, 'schema.table, lower-case'),
      mode: z.enum(['replace', 'partition']).optional(),
      maxRejectedRatio: z.number().min(0).max(1).optional(),
      allowEmpty: z.boolean().optional(),
    })
    .strict(),
  dbt: z
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
  command: z
    .object({
      ...common,
      argv: z.array(z.string()).min(1, 'the program to run, then its arguments'),
      env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string()).optional(),
      cwd: relativePath.optional(),
    })
    .strict(),
  http: z
    .object({
      ...common,
      conn: connName,
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
      path: z.string().startsWith('/', 'a path under the connection, starting with /'),
      json: z.unknown().optional(),
      expectStatus: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]).optional(),
    })
    .strict(),
  duckdb: z
    .object({
      ...common,
      sql: z
        .string()
        .min(1)
        .refine((q) => !duckdbQueryProblem(q), { message: 'one query (SELECT, WITH, FROM or VALUES), without ;' }),
      output: relativePath.refine((p) => p.endsWith('.parquet'), 'a .parquet file'),
    })
    .strict(),
  fileSensor: z.object({ ...common, ...sensor, path: relativePath, settle: duration.optional() }).strict(),
  sqlSensor: z.object({ ...common, ...sensor, mode: z.enum(['reschedule', 'deferrable']).optional(), conn: connName, sql: z.string().min(1) }).strict(),
  branch: z.object({ ...common, choose: z.custom((f) => typeof f === 'function', 'a function of the run') }).strict(),
  shortCircuit: z.object({ ...common, condition: z.custom((f) => typeof f === 'function', 'a function of the run') }).strict(),
  notify: z.object({ ...common, to: z.array(z.string().email()).min(1), subject: z.string().min(1), body: z.string() }).strict(),
  task: z
    .object({
      ...common,
      activity: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'the name of an exported function'),
      args: z.unknown().optional(),
      cache: z
        .object({ expiresIn: duration, policy: z.string().min(1).optional(), inputFile: relativePath.optional() })
        .strict()
        .optional(),
    })
    .strict(),
  empty: z.object({ ...common }).strict(),
};

/** What is wrong with a task's settings, each problem naming the field. */
export function operatorProblems(task: TaskDefinition): string[] {
  const schema = SCHEMAS[task.operator];
  if (!schema) return [`unknown operator ${JSON.stringify(task.operator)}; known: ${Object.keys(SCHEMAS).join(', ')}`];
  const parsed = schema.safeParse(task);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const field = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') return `${task.operator}: unknown setting ${issue.keys.join(', ')}`;
    return `${task.operator}${field ? ` ${field}` : ''}: ${issue.message}`;
  });
}
