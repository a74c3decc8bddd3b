/**
 * The names templates and references read (`ds`, `params.region`, `xcom.extract.rows`), written
 * as Jinja writes them: a name, then `.field` or `['key']` parts. A task of a group has a dotted
 * id (`load.region_eu`), which `xcom.load.region_eu.rows` would not tell apart from a field path,
 * so its id is one quoted part: `xcom['load.region_eu'].rows`, as Airflow's
 * `xcom_pull(task_ids='load.region_eu')` quotes it. Pure: bundled into the workflow sandbox.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEAD = /^[A-Za-z_][A-Za-z0-9_]*/;
const PART = /^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^'\n]*)'\s*\]|\[\s*"([^"\n]*)"\s*\])/;

/** The parts of a name (`xcom['load.eu'].rows` is xcom, load.eu, rows), or undefined when it is not one. */
export function parseName(text: string): string[] | undefined {
  const head = HEAD.exec(text);
  if (!head) return undefined;
  const path = [head[0]];
  let rest = text.slice(head[0].length);
  while (rest) {
    const part = PART.exec(rest);
    if (!part) return undefined;
    path.push(part[1] ?? part[2] ?? part[3]);
    rest = rest.slice(part[0].length);
  }
  return path;
}

/** A name as a template writes it: a part that is not an identifier (a group's task id) quoted. */
export function formatName(path: readonly string[]): string {
  return path
    .map((part, i) => {
      if (IDENTIFIER.test(part)) return i === 0 ? part : `.${part}`;
      if (!part.includes("'")) return `['${part}']`;
      if (!part.includes('"')) return `["${part}"]`;
      throw new TypeError(`${JSON.stringify(part)}: a name's part holds ' or ", not both`);
    })
    .join('');
}

/** An `xcom` read at the start of a placeholder: `{{ xcom.extract`, `{{ xcom['load.eu']`. */
const XCOM_READ = /\{\{\s*xcom(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^'\n]*)'\s*\]|\[\s*"([^"\n]*)"\s*\])/g;

/** The task ids a template's placeholders read the output of. */
export function xcomReadsIn(template: string): string[] {
  return [...template.matchAll(XCOM_READ)].map((m) => m[1] ?? m[2] ?? m[3]);
}
