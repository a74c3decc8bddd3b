/**
 * Assets (Airflow 3's assets, with partitions): names of data a task updates (its `outlets`) and
 * conditions over them that schedule a DAG (`schedule: { assets: 'orders & (customers | refunds)' }`).
 * A condition is written as an expression of asset names with `&` (all), `|` (any) and
 * parentheses, or as `{ all: [...] }` / `{ any: [...] }`; either way it becomes one
 * AssetExpression, which the watcher of the DAG evaluates over the assets updated for a
 * partition. Pure: the SDK, `baton dags validate` and the workflow sandbox import it.
 */

/** An asset's name: a letter, then letters, digits and `_ . : -` (`warehouse.orders`, `s3:raw-events`), 200 at most. */
export const ASSET_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,199}$/;

/** A condition as a DAG file writes it: an expression (`orders & customers`), or all / any of conditions. */
export type AssetCondition = string | { all: readonly AssetCondition[] } | { any: readonly AssetCondition[] };

/**
 * A DAG scheduled on assets: its runs start when the condition is met for a partition (a date,
 * or a timestamp for sub-daily producers); with `or`, a cron starts them too (Airflow's
 * AssetOrTimeSchedule).
 */
export interface AssetSchedule {
  assets: AssetCondition;
  /** A cron (or a preset such as @daily) that also starts runs, as a DAG's `schedule` string does. */
  or?: string;
}

/** A condition, parsed: an asset, or all / any of conditions (flattened, never empty). */
export type AssetExpression = { asset: string } | { all: AssetExpression[] } | { any: AssetExpression[] };

/** A condition that does not parse: what is wrong and where (`position` counts characters from 1). */
export class AssetConditionError extends Error {
  override name = 'AssetConditionError';
}

export const isAssetName = (name: unknown): name is string => typeof name === 'string' && ASSET_NAME.test(name);

/** What is wrong with an asset name, or undefined when it is one. */
export function assetNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `an asset name is a string, got ${JSON.stringify(name) ?? String(name)}`;
  if (ASSET_NAME.test(name)) return undefined;
  if (!name) return 'an asset name is empty';
  if (name.length > 200) return `asset name ${JSON.stringify(name.slice(0, 40))}... is longer than 200 characters`;
  return `asset name ${JSON.stringify(name.slice(0, 80))}: a letter, then letters, digits, _ . : and -`;
}

type Token = { kind: 'name' | '&' | '|' | '(' | ')' | 'end'; text: string; at: number };

const NAME_CHAR = /[A-Za-z0-9_.:-]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '&' || c === '|' || c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, at: i + 1 });
      i++;
    } else if (NAME_CHAR.test(c)) {
      const start = i;
      while (i < text.length && NAME_CHAR.test(text[i])) i++;
      tokens.push({ kind: 'name', text: text.slice(start, i), at: start + 1 });
    } else {
      throw new AssetConditionError(`unexpected ${JSON.stringify(c)} at position ${i + 1} (an asset condition is asset names, &, |, and parentheses)`);
    }
  }
  tokens.push({ kind: 'end', text: '', at: text.length + 1 });
  return tokens;
}

const shown = (t: Token) => (t.kind === 'end' ? 'the end' : JSON.stringify(t.text));

/**
 * Parses `orders & (customers | refunds)`: `&` binds tighter than `|`, as Python's operators do in
 * Airflow's `(a & b) | c`. Throws AssetConditionError naming the position of what is wrong.
 */
export function parseAssetExpression(text: string): AssetExpression {
  if (typeof text !== 'string') throw new AssetConditionError(`an asset condition is a string or { all } / { any }, got ${typeof text}`);
  const tokens = tokenize(text);
  if (tokens.length === 1) throw new AssetConditionError('the asset condition is empty');
  let i = 0;
  const peek = () => tokens[i];
  const any = (): AssetExpression => {
    const parts = [all()];
    while (peek().kind === '|') {
      i++;
      parts.push(all());
    }
    return combine('any', parts);
  };
  const all = (): AssetExpression => {
    const parts = [operand()];
    while (peek().kind === '&') {
      i++;
      parts.push(operand());
    }
    return combine('all', parts);
  };
  const operand = (): AssetExpression => {
    const t = tokens[i++];
    if (t.kind === 'name') {
      const problem = assetNameProblem(t.text);
      if (problem) throw new AssetConditionError(`${problem} (at position ${t.at})`);
      return { asset: t.text };
    }
    if (t.kind === '(') {
      const inner = any();
      const close = tokens[i++];
      if (close.kind !== ')') throw new AssetConditionError(`expected ")" at position ${close.at} to close the "(" at position ${t.at}, found ${shown(close)}`);
      return inner;
    }
    throw new AssetConditionError(`expected an asset name or "(" at position ${t.at}, found ${shown(t)}`);
  };
  const expression = any();
  const rest = peek();
  if (rest.kind !== 'end')
    throw new AssetConditionError(
      rest.kind === ')' ? `unexpected ")" at position ${rest.at}: no "(" is open` : `expected & or | at position ${rest.at}, found ${shown(rest)}`,
    );
  return expression;
}

/** all / any of parts, nested parts of the same kind flattened and repeated assets left out; one part is itself. */
function combine(kind: 'all' | 'any', parts: AssetExpression[]): AssetExpression {
  const flat: AssetExpression[] = [];
  for (const part of parts) {
    for (const p of kind in part ? (part as Record<typeof kind, AssetExpression[]>)[kind] : [part]) {
      if (!flat.some((f) => formatAssetExpression(f) === formatAssetExpression(p))) flat.push(p);
    }
  }
  if (flat.length === 1) return flat[0];
  return kind === 'all' ? { all: flat } : { any: flat };
}

/**
 * A DAG file's condition as an expression: a string is parsed, `{ all }` and `{ any }` are
 * combined. Throws AssetConditionError naming where the problem is (`all[1]: ...`).
 */
export function assetExpressionOf(condition: AssetCondition, at = ''): AssetExpression {
  const where = (problem: string) => new AssetConditionError(at ? `${at}: ${problem}` : problem);
  if (typeof condition === 'string') {
    try {
      return parseAssetExpression(condition);
    } catch (err) {
      throw where((err as Error).message);
    }
  }
  if (!condition || typeof condition !== 'object' || Array.isArray(condition))
    throw where(
      `an asset condition is a string such as 'orders & customers', { all: [...] } or { any: [...] }; got ${Array.isArray(condition) ? 'an array' : typeof condition}`,
    );
  const keys = Object.keys(condition);
  if (keys.length !== 1 || (keys[0] !== 'all' && keys[0] !== 'any'))
    throw where(`an asset condition object has one key, all or any; got ${keys.map((k) => JSON.stringify(k)).join(', ') || 'none'}`);
  const kind = keys[0] as 'all' | 'any';
  const parts = (condition as Record<string, unknown>)[kind];
  if (!Array.isArray(parts) || !parts.length) throw where(`${kind} takes a list of one asset or more`);
  return combine(
    kind,
    parts.map((p, n) => assetExpressionOf(p as AssetCondition, `${at ? `${at}.` : ''}${kind}[${n}]`)),
  );
}

/** Whether the condition is met by the assets updated. */
export function evaluateAssets(expression: AssetExpression, updated: ReadonlySet<string>): boolean {
  if ('asset' in expression) return updated.has(expression.asset);
  if ('all' in expression) return expression.all.every((e) => evaluateAssets(e, updated));
  return expression.any.some((e) => evaluateAssets(e, updated));
}

/** What the condition still waits for, given the assets updated: true when it is met. */
export function remainingAssets(expression: AssetExpression, updated: ReadonlySet<string>): AssetExpression | true {
  if ('asset' in expression) return updated.has(expression.asset) ? true : expression;
  if ('all' in expression) {
    const left = expression.all.map((e) => remainingAssets(e, updated)).filter((e): e is AssetExpression => e !== true);
    return left.length ? combine('all', left) : true;
  }
  const left = expression.any.map((e) => remainingAssets(e, updated));
  return left.some((e) => e === true) ? true : combine('any', left as AssetExpression[]);
}

/** The assets a condition names, in the order it names them. */
export function assetsIn(expression: AssetExpression): string[] {
  if ('asset' in expression) return [expression.asset];
  const parts = 'all' in expression ? expression.all : expression.any;
  return [...new Set(parts.flatMap(assetsIn))];
}

/** The condition as an expression: `orders & (customers | refunds)`. */
export function formatAssetExpression(expression: AssetExpression): string {
  if ('asset' in expression) return expression.asset;
  if ('all' in expression) return expression.all.map((e) => ('any' in e ? `(${formatAssetExpression(e)})` : formatAssetExpression(e))).join(' & ');
  return expression.any.map(formatAssetExpression).join(' | ');
}
