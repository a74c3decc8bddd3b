/**
 * The templates of DAG files, as Airflow's Jinja is used in practice: `{{ ds }}`,
 * `{{ params.region }}`, `{{ conf.full_refresh }}`, `{{ xcom.extract.rows }}` and the macros
 * `{{ macros.ds_add(ds, -1) }}` and `{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}`.
 * An expression is a dotted name or a macro call on names, quoted strings and integers: no
 * code runs. Every placeholder is checked against what the task can see before anything runs
 * (`templateProblems`), and rendering a name that is not there fails, naming it. Pure.
 * ds_format's strftime fields are in strftime.ts. The hand-written reference workflows' sensors
 * (runs started before the pipelines were DAG files) keep the plain names of the data interval:
 * plain-templates.ts.
 */
import { addDays, parseDs } from '../logical-date';
import { formatDate, parseWithFormat, TemplateError } from './strftime';
import { formatName, parseName } from './names';
import { isMarker, type RefMarker } from './refs';

export { TemplateError };

/** What a task's templates see at run time. */
export interface TemplateContext {
  ds: string;
  ds_nodash: string;
  /** The logical timestamp, `2024-01-15T13:00:00+00:00` (the data interval's start; a sub-daily run's name). */
  ts: string;
  ts_nodash: string;
  data_interval_start: string;
  data_interval_end: string;
  params: Record<string, unknown>;
  conf: Record<string, unknown>;
  /** Upstream tasks' outputs by task id. */
  xcom: Record<string, unknown>;
}

/** What validation knows of a task's templates: the params declared and the tasks upstream of it. */
export interface TemplateScope {
  params: readonly string[];
  upstream: readonly string[];
  /** Every task of the DAG, with the fields its output has when they are known (`*`: any). */
  outputs?: ReadonlyMap<string, { operator: string; fields: readonly string[] | '*' }>;
}

type Arg = { kind: 'name'; path: string[] } | { kind: 'string'; value: string } | { kind: 'number'; value: number };
export type Expression = { kind: 'name'; path: string[] } | { kind: 'macro'; name: MacroName; args: Arg[] };

const MACROS = {
  /** ds_add(ds, days): the date `days` after (or before) ds. */
  ds_add: (args: unknown[]) => {
    const [ds, days] = args;
    if (typeof days !== 'number' || !Number.isInteger(days))
      throw new TemplateError(`macros.ds_add(ds, days): days must be an integer, got ${JSON.stringify(days)}`);
    return addDays(parseDs(String(ds)), days);
  },
  /** ds_format(ds, input, output): the date re-formatted with strftime's %Y, %m, %d (and %j, %y). */
  ds_format: (args: unknown[]) => {
    const [value, input, output] = args.map(String);
    return formatDate(parseWithFormat(value, input), output);
  },
} as const;
type MacroName = keyof typeof MACROS;
const ARITY: Record<MacroName, number> = { ds_add: 2, ds_format: 3 };

const BUILTINS = ['ds', 'ds_nodash', 'ts', 'ts_nodash', 'data_interval_start', 'data_interval_end'];
const PLACEHOLDER = /\{\{(.*?)\}\}/gs;

/** The expression inside one `{{ }}`. */
export function parseExpression(source: string): Expression {
  const text = source.trim();
  const name = parseName(text);
  if (name) return { kind: 'name', path: name };
  const call = /^(?:macros\.)?([A-Za-z_]+)\s*\((.*)\)$/s.exec(text);
  if (!call) throw new TemplateError(`{{ ${text} }} is not a name (ds, params.x, xcom.task.key) or a macro call (macros.ds_add(ds, 1))`);
  const macro = call[1];
  if (!(macro in MACROS)) throw new TemplateError(`{{ ${text} }}: unknown macro ${macro}; known: ${Object.keys(MACROS).join(', ')}`);
  const args = splitArgs(call[2]).map((raw): Arg => {
    if (/^-?\d+$/.test(raw)) return { kind: 'number', value: Number(raw) };
    const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(raw);
    if (quoted) return { kind: 'string', value: quoted[1] ?? quoted[2] };
    const path = parseName(raw);
    if (path) return { kind: 'name', path };
    throw new TemplateError(`{{ ${text} }}: argument ${raw} is not a name, a quoted string or an integer`);
  });
  if (args.length !== ARITY[macro as MacroName])
    throw new TemplateError(`{{ ${text} }}: macros.${macro} takes ${ARITY[macro as MacroName]} arguments, got ${args.length}`);
  return { kind: 'macro', name: macro as MacroName, args };
}

function splitArgs(list: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of list) {
    if (quote) {
      current += ch;
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      args.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (quote) throw new TemplateError(`unclosed quote in (${list})`);
  if (current.trim() || args.length) args.push(current.trim());
  return args;
}

/** Every placeholder of a template, parsed; a stray `{{` or `}}` is an error. */
export function placeholders(template: string): Array<{ source: string; expression: Expression }> {
  const found = [...template.matchAll(PLACEHOLDER)].map((m) => ({ source: m[0], expression: parseExpression(m[1]) }));
  if (/\{\{|\}\}/.test(template.replace(PLACEHOLDER, ''))) throw new TemplateError(`malformed placeholder in ${JSON.stringify(template)}`);
  return found;
}

/** What is wrong with the names a template uses, for a task that sees `scope`; empty when nothing is. */
export function templateProblems(template: string, scope: TemplateScope): string[] {
  let found;
  try {
    found = placeholders(template);
  } catch (err) {
    return [(err as Error).message];
  }
  const names = found.flatMap(({ expression }) =>
    expression.kind === 'name' ? [expression.path] : expression.args.flatMap((a) => (a.kind === 'name' ? [a.path] : [])),
  );
  return names.flatMap((path) => nameProblem(path, scope) ?? []);
}

function nameProblem(path: string[], scope: TemplateScope): string | undefined {
  const [root, key] = path;
  const shown = `{{ ${formatName(path)} }}`;
  if (BUILTINS.includes(root)) return path.length === 1 ? undefined : `${shown}: ${root} has no fields`;
  if (root === 'params') {
    if (!key) return `${shown}: name the param, as params.<name>`;
    return scope.params.includes(key)
      ? undefined
      : `${shown}: the DAG declares no param ${key}${scope.params.length ? ` (it has ${scope.params.join(', ')})` : ''}`;
  }
  if (root === 'conf') return key ? undefined : `${shown}: name the key, as conf.<key>`;
  if (root === 'xcom') {
    if (!key) return `${shown}: name the task, as xcom.<task_id>.<key>`;
    const output = scope.outputs?.get(key);
    if (scope.outputs && !output) return `${shown}: the DAG has no task ${key}${groupHint(path, scope.outputs)}`;
    if (!scope.upstream.includes(key)) return `${shown}: ${key} is not upstream of this task, so its output is not there yet`;
    const field = path[2];
    if (output && field !== undefined && output.fields !== '*' && !output.fields.includes(field))
      return `${shown}: ${key} (${output.operator}) has no output field ${field}; ${output.fields.length ? `it has ${output.fields.join(', ')}` : 'it has none'}`;
    return undefined;
  }
  return `unknown placeholder ${shown}; known: ${[...BUILTINS, 'params.<name>', 'conf.<key>', 'xcom.<task>.<key>', 'macros.ds_add', 'macros.ds_format'].join(', ')}`;
}

/** For `xcom.load.region_eu.rows` where load is a group: how to read its task (its id quoted, as `xcom['load.region_eu'].rows`). */
function groupHint(path: string[], outputs: ReadonlyMap<string, unknown>): string {
  const [, key, ...rest] = path;
  const members = [...outputs.keys()].filter((id) => id.startsWith(`${key}.`));
  if (!members.length) return '';
  for (let n = rest.length; n > 0; n--) {
    const taskId = [key, ...rest.slice(0, n)].join('.');
    if (outputs.has(taskId)) return `; ${key} is a group, whose task ${taskId} is read as {{ ${formatName(['xcom', taskId, ...rest.slice(n)])} }}`;
  }
  return `; ${key} is a group: read one of its tasks (${members.join(', ')}) as {{ ${formatName(['xcom', members[0]])}.<field> }}`;
}

function lookup(path: string[], context: TemplateContext): unknown {
  let value: unknown = context;
  for (const [i, key] of path.entries()) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) {
      throw new TemplateError(`{{ ${formatName(path)} }}: ${i === 0 ? 'unknown name' : `${formatName(path.slice(0, i))} has no ${key}`}`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The value of one expression. */
export function evaluate(expression: Expression, context: TemplateContext): unknown {
  if (expression.kind === 'name') return lookup(expression.path, context);
  const args = expression.args.map((a) => (a.kind === 'name' ? lookup(a.path, context) : a.value));
  return MACROS[expression.name](args);
}

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** The template with each placeholder replaced by its value (objects as JSON). */
export function render(template: string, context: TemplateContext): string {
  placeholders(template);
  return template.replace(PLACEHOLDER, (_, source: string) => asText(evaluate(parseExpression(source), context)));
}

/** What a value spliced into DuckDB SQL may hold: dates, times, names, numbers, paths. */
const SQL_SAFE = /^[A-Za-z0-9_.:/+ -]*$/;

/**
 * SQL where parameters cannot go (DuckDB's file paths): each placeholder's value is spliced
 * only when it is made of letters, digits and `_ . : / + -` and spaces, so no value can end a
 * literal or add a clause; any other value is a TemplateError naming the placeholder.
 */
export function renderSqlText(sql: string, context: TemplateContext): string {
  placeholders(sql);
  return sql.replace(PLACEHOLDER, (_, source: string) => {
    const value = asText(evaluate(parseExpression(source), context));
    if (!SQL_SAFE.test(value))
      throw new TemplateError(`{{${source}}} is ${JSON.stringify(value.slice(0, 80))}: only letters, digits, spaces and _ . : / + - go into SQL text`);
    return value;
  });
}

/**
 * The value a reference stands for: the first alternative whose task gave an output (a field
 * the output leaves out is undefined, as JSON leaves it out); none is an error naming the tasks,
 * or undefined for an optional reference.
 */
export function resolveMarker(marker: RefMarker, context: TemplateContext): unknown {
  for (const name of marker.$ref) {
    const path = markerPath(name);
    if (path[0] === 'xcom' && !Object.prototype.hasOwnProperty.call(context.xcom, path[1])) continue;
    let value: unknown = context;
    for (const [i, key] of path.entries()) {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'object') throw new TemplateError(`${name}: ${formatName(path.slice(0, i))} is ${JSON.stringify(value)}, which has no ${key}`);
      value = Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    }
    return value;
  }
  if (marker.optional) return undefined;
  const tasks = [...new Set(marker.$ref.map((n) => markerPath(n)[1]))];
  throw new TemplateError(
    `${marker.$ref.join(' or ')}: ${tasks.join(' and ')} gave no output (skipped, failed or not run); read it through optional(...) where that may happen`,
  );
}

function markerPath(name: string): string[] {
  const path = parseName(name);
  if (!path) throw new TemplateError(`${JSON.stringify(name)} is not a name a reference reads (xcom.task.key, params.x)`);
  return path;
}

/** Renders every string inside a JSON value (an HTTP body, a user task's arguments); references become their values. */
export function renderDeep(value: unknown, context: TemplateContext): unknown {
  if (isMarker(value)) return resolveMarker(value, context);
  if (typeof value === 'string') return render(value, context);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, context));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, context)]));
  return value;
}

/** Every template string inside a JSON value, for validation (a reference is checked as its placeholder would be). */
export function templatesIn(value: unknown): string[] {
  if (isMarker(value)) return value.$ref.map((name) => `{{ ${name} }}`);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(templatesIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(templatesIn);
  return [];
}

/**
 * SQL with each placeholder as a bound parameter `$n` (a quoted `'{{ ds }}'` too), never text
 * spliced into the statement: a value cannot change what the SQL does.
 */
export function parameterize(sql: string, context: TemplateContext): { text: string; values: unknown[] } {
  placeholders(sql);
  const values: unknown[] = [];
  const text = sql.replace(/'?\{\{(.*?)\}\}'?/gs, (_, source: string) => {
    const value = evaluate(parseExpression(source), context);
    values.push(value !== null && typeof value === 'object' ? JSON.stringify(value) : value);
    return `$${values.length}`;
  });
  return { text, values };
}
