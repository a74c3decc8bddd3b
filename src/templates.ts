/**
 * Airflow-style templates in sensor arguments: `{{ ds }}`, `{{ ds_nodash }}`,
 * `{{ data_interval_start }}`, `{{ data_interval_end }}`. Pure; an unknown placeholder or a path
 * that would leave the data directory is refused up front, naming it.
 */
import type { DataInterval } from './timetable';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function templateValues(interval: DataInterval): Record<string, string> {
  return {
    ds: interval.ds,
    ds_nodash: interval.ds.replace(/-/g, ''),
    data_interval_start: interval.dataIntervalStart,
    data_interval_end: interval.dataIntervalEnd,
  };
}

export function renderTemplate(template: string, values: Record<string, string>): string {
  const unknown = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((name) => !(name in values));
  if (unknown.length)
    throw new TemplateError(`unknown placeholder {{ ${unknown[0]} }} in ${JSON.stringify(template)}; known: ${Object.keys(values).join(', ')}`);
  const rendered = template.replace(PLACEHOLDER, (_, name: string) => values[name]);
  if (/\{\{|\}\}/.test(rendered)) throw new TemplateError(`malformed placeholder in ${JSON.stringify(template)}`);
  return rendered;
}

/** A template for a path under the data directory: relative, and never climbing out of it. */
export function renderDataPath(template: string, values: Record<string, string>): string {
  const rendered = renderTemplate(template, values);
  if (rendered.startsWith('/') || rendered.split('/').some((part) => part === '..') || rendered.includes('\0')) {
    throw new TemplateError(`path ${JSON.stringify(rendered)} leaves the data directory: use a relative path without ..`);
  }
  return rendered;
}

/**
 * An Airflow-templated SQL statement as a parameterized one: each `{{ name }}` (quoted as
 * `'{{ ds }}'` or not) becomes a bound parameter `$n`, never text spliced into the SQL.
 */
export function parameterizeSql(sql: string, values: Record<string, string>): { text: string; params: string[] } {
  const params: string[] = [];
  const text = sql.replace(/'?\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}'?/g, (_, name: string) => {
    if (!(name in values)) throw new TemplateError(`unknown placeholder {{ ${name} }} in the SQL; known: ${Object.keys(values).join(', ')}`);
    params.push(values[name]);
    return `$${params.length}`;
  });
  if (/\{\{|\}\}/.test(text)) throw new TemplateError('malformed placeholder in the SQL');
  return { text, params };
}
