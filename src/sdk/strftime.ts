/**
 * strftime's date fields (%Y, %y, %m, %d, and %j when writing), for the template macro
 * `macros.ds_format(ds, input, output)`, and the error every template module throws. Pure.
 */
import { parseDs } from '../logical-date';

/** A template that cannot be read or rendered: the message names the placeholder or the value. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const FIELDS: Record<string, { pattern: string; set?: (d: { y: number; m: number; d: number }, v: string) => void }> = {
  Y: { pattern: '(\\d{4})', set: (d, v) => (d.y = Number(v)) },
  y: { pattern: '(\\d{2})', set: (d, v) => (d.y = 2000 + Number(v)) },
  m: { pattern: '(\\d{1,2})', set: (d, v) => (d.m = Number(v)) },
  d: { pattern: '(\\d{1,2})', set: (d, v) => (d.d = Number(v)) },
  '%': { pattern: '%' },
};

/** The date (`YYYY-MM-DD`) a value written in `format` names. */
export function parseWithFormat(value: string, format: string): string {
  const setters: Array<(d: { y: number; m: number; d: number }, v: string) => void> = [];
  let pattern = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (ch !== '%') {
      pattern += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const field = FIELDS[format[++i]];
    if (!field) throw new TemplateError(`macros.ds_format: %${format[i] ?? ''} is not supported (use %Y, %y, %m, %d)`);
    pattern += field.pattern;
    if (field.set) setters.push(field.set);
  }
  const match = new RegExp(`^${pattern}$`).exec(value);
  if (!match) throw new TemplateError(`macros.ds_format: ${JSON.stringify(value)} does not match the format ${JSON.stringify(format)}`);
  const date = { y: 0, m: 1, d: 1 };
  setters.forEach((set, i) => set(date, match[i + 1]));
  return parseDs(`${String(date.y).padStart(4, '0')}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`);
}

/** A date (`YYYY-MM-DD`) written in `format`. */
export function formatDate(ds: string, format: string): string {
  const [y, m, d] = ds.split('-');
  const day = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const yday = String(Math.round((day - Date.UTC(Number(y), 0, 1)) / 86_400_000) + 1).padStart(3, '0');
  const values: Record<string, string> = { Y: y, y: y.slice(2), m, d, j: yday, '%': '%' };
  return format.replace(/%(.)/g, (_, f: string) => {
    if (!(f in values)) throw new TemplateError(`macros.ds_format: %${f} is not supported (use %Y, %y, %m, %d, %j)`);
    return values[f];
  });
}
