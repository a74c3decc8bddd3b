/**
 * The trigger form of a DAG, built from its params schema (each param's type, default and
 * description), and what a submitted form means: the run's key and conf, or the problems, each
 * under the field it is about, in the CLI's words (the date's check, `--conf is not JSON`, and
 * the schema's `params.<name>: ...`).
 */
import { z } from 'zod';
import type { DagRunConf } from '../contracts';
import type { DagDefinition } from '../dags';
import { isTsKey, parseDs, parseTs } from '../logical-date';
import { checkConf } from '../runs';
import type { DagFileDefinition } from '../sdk/types';
import { intervalForKey, isSubDaily, runKeyOf } from '../timetable';

export interface ParamField {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'choice' | 'json';
  required: boolean;
  default?: unknown;
  description?: string;
  options?: string[];
}

interface JsonSchemaProperty {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
}

/** The DAG's params as form fields, in the schema's order; a schema that has no JSON form gives none (free conf still works). */
export function paramFields(params: DagFileDefinition['params']): ParamField[] {
  if (!params) return [];
  let schema: { properties?: Record<string, JsonSchemaProperty>; required?: string[] };
  try {
    schema = z.toJSONSchema(params as z.ZodType, { unrepresentable: 'any', io: 'input' }) as typeof schema;
  } catch {
    return [];
  }
  return Object.entries(schema.properties ?? {}).map(([name, p]): ParamField => {
    const types = Array.isArray(p.type) ? p.type : p.type ? [p.type] : [];
    const type: ParamField['type'] =
      p.enum && p.enum.every((v) => typeof v === 'string')
        ? 'choice'
        : types.includes('boolean')
          ? 'boolean'
          : types.includes('integer')
            ? 'integer'
            : types.includes('number')
              ? 'number'
              : types.includes('string')
                ? 'string'
                : 'json';
    return {
      name,
      type,
      required: (schema.required ?? []).includes(name) && p.default === undefined,
      ...(p.default !== undefined ? { default: p.default } : {}),
      ...(p.description ? { description: p.description } : {}),
      ...(type === 'choice' ? { options: p.enum as string[] } : {}),
    };
  });
}

/** What a submitted trigger form asks for, or its problems by field (`date`, `conf`, or a param's name). */
export type TriggerRequest = { key: string; conf: DagRunConf } | { problems: Record<string, string[]> };

/** The form's key and conf: the date (or timestamp), the free conf, then each param field given (a field wins over the same key in the free conf). */
export function readTriggerForm(dag: DagDefinition, fields: readonly ParamField[], form: Record<string, string>): TriggerRequest {
  const problems: Record<string, string[]> = {};
  const add = (field: string, message: string) => (problems[field] ??= []).push(message);
  let key = '';
  const date = (form.date ?? '').trim();
  try {
    if (!date) throw new Error(`give the run's ${isSubDaily(dag) ? 'logical timestamp, such as 2024-01-15T13:00:00+00:00' : 'logical date, YYYY-MM-DD'}`);
    if (isTsKey(date)) parseTs(date, 'ts');
    else parseDs(date, 'ds');
    key = runKeyOf(dag, intervalForKey(dag, date));
  } catch (err) {
    add('date', (err as Error).message);
  }
  let conf: DagRunConf = {};
  const free = (form.conf ?? '').trim();
  if (free) {
    try {
      conf = checkConf(JSON.parse(free));
    } catch (err) {
      add('conf', err instanceof SyntaxError ? `--conf is not JSON: ${err.message}` : (err as Error).message);
    }
  }
  for (const field of fields) {
    const raw = form[`param.${field.name}`];
    if (field.type === 'boolean') {
      // A checkbox sends nothing when unticked: the form says so in a hidden field.
      if (form[`param.${field.name}.shown`] !== undefined) conf[field.name] = raw === 'on' || raw === 'true';
      continue;
    }
    if (raw === undefined || raw.trim() === '') continue;
    if (field.type === 'integer' || field.type === 'number') {
      // Not a number: the schema says so, in its words.
      conf[field.name] = raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    } else if (field.type === 'json') {
      try {
        conf[field.name] = JSON.parse(raw);
      } catch (err) {
        add(field.name, `params.${field.name}: not JSON: ${(err as Error).message}`);
      }
    } else conf[field.name] = raw;
  }
  if (Object.keys(problems).length) return { problems };
  return { key, conf };
}

/** The schema's problems (`params.<name>: ...`) under their fields; one naming no field is the conf's. */
export function problemsByField(problems: readonly string[], fields: readonly ParamField[]): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const problem of problems) {
    const name = /^params\.([^.:]+)/.exec(problem)?.[1];
    const field = name && fields.some((f) => f.name === name) ? name : 'conf';
    (byField[field] ??= []).push(problem);
  }
  return byField;
}
