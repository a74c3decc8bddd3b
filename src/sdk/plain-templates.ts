/**
 * The data interval's plain names (`{{ ds }}`, `{{ ds_nodash }}`, `{{ ts }}`, ...), as the
 * hand-written reference workflows' sensors template their paths and SQL (their runs started
 * before the pipelines were DAG files). A DAG file's templates are templates.ts. Pure.
 */
import { formatTs, tsNodash } from '../logical-date';
import { TemplateError } from './strftime';

const PLAIN_NAME = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function templateValues(interval: { ds: string; ts?: string; dataIntervalStart: string; dataIntervalEnd: string }): Record<string, string> {
  const ts = interval.ts ?? formatTs(Date.parse(interval.dataIntervalStart));
  return {
    ds: interval.ds,
    ds_nodash: interval.ds.replace(/-/g, ''),
    ts,
    ts_nodash: tsNodash(ts),
    data_interval_start: interval.dataIntervalStart,
    data_interval_end: interval.dataIntervalEnd,
  };
}

export function renderTemplate(template: string, values: Record<string, string>): string {
  const unknown = [...template.matchAll(PLAIN_NAME)].map((m) => m[1]).filter((name) => !(name in values));
  if (unknown.length)
    throw new TemplateError(`unknown placeholder {{ ${unknown[0]} }} in ${JSON.stringify(template)}; known: ${Object.keys(values).join(', ')}`);
  const rendered = template.replace(PLAIN_NAME, (_, name: string) => values[name]);
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
