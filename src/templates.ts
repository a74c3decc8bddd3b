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
  if (unknown.length) throw new TemplateError(`unknown placeholder {{ ${unknown[0]} }} in ${JSON.stringify(template)}; known: ${Object.keys(values).join(', ')}`);
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
