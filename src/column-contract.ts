/**
 * A column contract: what a CSV file must hold, as data. Each column's name, type, whether it
 * is required, its maximum length and simple rules, and the unique key with its keep rule. The
 * CSV reader checks every record against it (src/data/contract.ts) and every reject names the
 * column, the value and the rule. Generic: nothing here knows about any one pipeline.
 * Pure data and pure functions: imported by the workflow bundle.
 */
import { z } from 'zod';

/** `text`, `integer` (bigint), `decimal(p,s)`, `date` (YYYY-MM-DD), `timestamp`, `timestamptz`, `boolean`. */
export type ColumnType = string;

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** An empty value (or one of `nullValues`) is a reject; true by default. */
  required?: boolean;
  /** Characters, after trimming (text only). */
  maxLength?: number;
  /** Spaces and tabs around the value are dropped; true by default (values other than text are always trimmed). */
  trim?: boolean;
  /** `>= 0`, `> 0`, `<= 100`, `= ds`, `<> 0`: the value compared with a number, or with the run's date. */
  rules?: string[];
  /** Values read as missing besides the empty one (`NULL`, `N/A`). */
  nullValues?: string[];
}

export interface ColumnContract {
  columns: ColumnSpec[];
  /** How the header is matched: `exact` (these names in this order) or `by-name` (any order, other columns ignored). */
  header: 'exact' | 'by-name';
  /** The unique key; of several records with one key, `keep` decides which loads (by line), the others are rejected. */
  key?: { columns: string[]; keep: 'first' | 'last' };
}

export type ParsedType =
  | { kind: 'text' }
  | { kind: 'integer' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | { kind: 'boolean' };

export interface ParsedRule {
  op: '>=' | '>' | '<=' | '<' | '=' | '<>';
  /** A number, or `ds` (dates only). */
  operand: number | 'ds';
  text: string;
}

export function parseColumnType(type: string): ParsedType {
  const t = type.trim().toLowerCase();
  if (t === 'text' || t === 'integer' || t === 'date' || t === 'timestamp' || t === 'timestamptz' || t === 'boolean') return { kind: t };
  const m = /^decimal\((\d{1,2}),\s*(\d{1,2})\)$/.exec(t);
  if (m) {
    const precision = Number(m[1]);
    const scale = Number(m[2]);
    if (precision >= 1 && precision <= 38 && scale <= precision) return { kind: 'decimal', precision, scale };
  }
  throw new Error(`type ${JSON.stringify(type)} is not one of text, integer, decimal(p,s) (1 <= p <= 38, s <= p), date, timestamp, timestamptz, boolean`);
}

export function parseRule(rule: string, type: ParsedType): ParsedRule {
  const m = /^\s*(>=|<=|<>|!=|>|<|=)\s*(ds|[+-]?\d+(?:\.\d+)?)\s*$/.exec(rule);
  if (!m) throw new Error(`rule ${JSON.stringify(rule)} is not <op> <number> or <op> ds, with op one of >=, >, <=, <, =, <>`);
  const op = (m[1] === '!=' ? '<>' : m[1]) as ParsedRule['op'];
  const operand = m[2] === 'ds' ? 'ds' : Number(m[2]);
  const numeric = type.kind === 'integer' || type.kind === 'decimal';
  if (operand === 'ds' ? type.kind !== 'date' : !numeric) {
    throw new Error(
      `rule ${JSON.stringify(rule)} does not apply to a ${type.kind} column (numbers compare with integer and decimal columns, ds with date columns)`,
    );
  }
  return { op, operand, text: `${op} ${m[2]}` };
}

const columnSchema = z.object({
  name: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a column name is lower case letters, digits and _, starting with a letter or _'),
  type: z.string(),
  required: z.boolean().optional(),
  maxLength: z.number().int().positive().optional(),
  trim: z.boolean().optional(),
  rules: z.array(z.string()).optional(),
  nullValues: z.array(z.string()).optional(),
});

const contractSchema = z.object({
  columns: z.array(columnSchema).min(1),
  header: z.enum(['exact', 'by-name']),
  key: z.object({ columns: z.array(z.string()).min(1), keep: z.enum(['first', 'last']) }).optional(),
});

/** Checks a contract's shape, types, rules and key; throws naming the column and the problem. */
export function validateContract(contract: ColumnContract): ColumnContract {
  const parsed = contractSchema.safeParse(contract);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`column contract: ${issue.path.join('.')}: ${issue.message}`);
  }
  const names = new Set<string>();
  for (const column of contract.columns) {
    if (names.has(column.name)) throw new Error(`column contract: column ${column.name} appears twice`);
    names.add(column.name);
    try {
      const type = parseColumnType(column.type);
      for (const rule of column.rules ?? []) parseRule(rule, type);
      if (column.maxLength !== undefined && type.kind !== 'text') throw new Error('maxLength applies to text columns only');
    } catch (err) {
      throw new Error(`column contract: column ${column.name}: ${(err as Error).message}`);
    }
  }
  for (const key of contract.key?.columns ?? []) {
    if (!names.has(key)) throw new Error(`column contract: key column ${key} is not a column`);
  }
  return contract;
}
