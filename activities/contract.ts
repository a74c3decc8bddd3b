/**
 * A column contract compiled for one file: the header matched to the contract's columns, and a
 * check per column that reads the field's bytes where the CSV reader split them and writes the
 * value as Postgres COPY text. A good record costs no JS string; a reject builds its reason
 * (naming the column, the value and the rule) and nothing else.
 */
import { parseColumnType, parseRule, validateContract, type ColumnContract, type ColumnSpec, type ParsedRule, type ParsedType } from '../src/column-contract';
import type { CopyWriter } from './copy-writer';
import { MAX_RAW_CHARS, type CsvRecord } from './csv';

const TAB = 0x09;
const LF = 0x0a;
const SPACE = 0x20;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Why a record was not loaded. `rule` is the short kind the rejects table groups by. */
export interface ContractReject {
  column: string;
  rule: string;
  reason: string;
}

export interface CompiledContract {
  /** For each contract column, its field's position in the file. */
  positions: number[];
  /**
   * Checks a record and, when it passes, appends it to `out` as one COPY row: the contract's
   * columns in order, then the record's first line and its number of lines. Returns the first
   * reject otherwise (and writes nothing).
   */
  write(record: CsvRecord, out: CopyWriter): ContractReject | undefined;
}

/** A header that does not match the contract; `type` is the failure type it becomes. */
export class HeaderError extends Error {
  constructor(
    message: string,
    readonly type: 'WrongHeader' | 'MissingColumn' | 'DuplicateColumn',
  ) {
    super(message);
  }
}

/** A value in a reason: quoted, control characters shown, cut to 100 characters. */
export function shown(value: string): string {
  const cut = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped here
  return `'${cut.replace(/'/g, "''").replace(/[\u0000-\u001f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;
}

const article = (type: string) => (/^[aeiou]/.test(type) ? 'an' : 'a');

/** Matches the header to the contract; throws a HeaderError naming what is wrong (the header cut to 200 characters). */
export function matchHeader(contract: ColumnContract, header: string[]): number[] {
  const names = header.map((h) => h.trim());
  const expected = contract.columns.map((c) => c.name);
  const found = JSON.stringify(header.join(',').slice(0, 200));
  if (contract.header === 'exact') {
    if (names.length === expected.length && names.every((n, i) => n === expected[i])) return expected.map((_, i) => i);
    throw new HeaderError(`wrong header: expected "${expected.join(',')}", found ${found}`, 'WrongHeader');
  }
  const missing = expected.filter((name) => !names.includes(name));
  if (missing.length)
    throw new HeaderError(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; expected ${expected.join(',')}`, 'MissingColumn');
  const twice = expected.find((name) => names.indexOf(name) !== names.lastIndexOf(name));
  if (twice) throw new HeaderError(`column ${twice} appears more than once in the header; expected ${expected.join(',')}`, 'DuplicateColumn');
  return expected.map((name) => names.indexOf(name));
}

type Check = (src: Buffer, s: number, e: number, out: CopyWriter) => ContractReject | undefined;

/** Compiles a contract for a file whose header is `header`, for the run's logical date `ds`. */
export function compileContract(contract: ColumnContract, header: string[], ds: string): CompiledContract {
  validateContract(contract);
  const positions = matchHeader(contract, header);
  const checks = contract.columns.map((column) => columnCheck(column, ds));
  const n = checks.length;
  return {
    positions,
    write(record, out) {
      const mark = out.length;
      for (let c = 0; c < n; c++) {
        const f = positions[c];
        const reject = checks[c](record.source(f), record.starts[f], record.ends[f], out);
        if (reject) {
          out.length = mark;
          return reject;
        }
        out.byte(TAB);
      }
      out.uint(record.line);
      out.byte(TAB);
      out.uint(record.lines);
      out.byte(LF);
      return undefined;
    },
  };
}

/** Writes one reject as a COPY row: line, lines, rule, reason, raw (cut to MAX_RAW_CHARS). */
export function writeReject(out: CopyWriter, line: number, lines: number, rule: string, reason: string, raw: string): void {
  out.ascii(String(line));
  out.byte(TAB);
  out.ascii(String(lines));
  out.byte(TAB);
  out.text(rule);
  out.byte(TAB);
  out.text(reason);
  out.byte(TAB);
  out.text(raw.replace(/\0/g, '\\0').slice(0, MAX_RAW_CHARS));
  out.byte(LF);
}

function trimStart(src: Buffer, s: number, e: number): number {
  while (s < e && (src[s] === SPACE || src[s] === TAB)) s++;
  return s;
}
function trimEnd(src: Buffer, s: number, e: number): number {
  while (e > s && (src[e - 1] === SPACE || src[e - 1] === TAB)) e--;
  return e;
}

function columnCheck(column: ColumnSpec, ds: string): Check {
  const type = parseColumnType(column.type);
  const rules = (column.rules ?? []).map((r) => parseRule(r, type));
  const required = column.required !== false;
  const trim = type.kind !== 'text' || column.trim !== false;
  const nulls = (column.nullValues ?? []).map((v) => Buffer.from(v, 'utf8'));
  const name = column.name;
  const typeName = type.kind === 'decimal' ? `decimal(${type.precision},${type.scale})` : type.kind;
  const value = (src: Buffer, s: number, e: number) => src.toString('utf8', s, e);
  const typeReject = (src: Buffer, s: number, e: number, detail = ''): ContractReject => ({
    column: name,
    rule: `${name}: ${typeName}`,
    reason: `${name} ${shown(value(src, s, e))} is not ${article(typeName)} ${typeName}${detail}`,
  });
  const ruleReject = (src: Buffer, s: number, e: number, rule: ParsedRule): ContractReject => ({
    column: name,
    rule: `${name}: ${rule.text}`,
    reason: `${name} ${shown(value(src, s, e))} breaks the rule ${name} ${rule.text}${rule.operand === 'ds' ? ` (ds is ${ds})` : ''}`,
  });
  const rangeReject = (src: Buffer, s: number, e: number, detail: string): ContractReject => ({
    column: name,
    rule: `${name}: ${typeName}`,
    reason: `${name} ${shown(value(src, s, e))} does not fit ${typeName} ${detail}`,
  });
  const typed = type.kind === 'text' ? undefined : typeCheck(type, ds, rules, typeReject, rangeReject, ruleReject, name);

  return (src, s0, e0, out) => {
    let s = s0;
    let e = e0;
    if (trim) {
      s = trimStart(src, s, e);
      e = trimEnd(src, s, e);
    }
    let missing = s === e;
    if (!missing && nulls.length) missing = nulls.some((v) => v.length === e - s && src.compare(v, 0, v.length, s, e) === 0);
    if (missing) {
      if (required)
        return { column: name, rule: `${name}: required`, reason: `${name} is required, found ${s === e ? 'an empty value' : shown(value(src, s, e))}` };
      out.null();
      return undefined;
    }
    if (type.kind === 'text') {
      if (column.maxLength !== undefined) {
        // Characters, not bytes: every byte that is not a UTF-8 continuation byte starts one.
        let chars = 0;
        for (let j = s; j < e; j++) if ((src[j] & 0xc0) !== 0x80) chars++;
        if (chars > column.maxLength) {
          return {
            column: name,
            rule: `${name}: max length ${column.maxLength}`,
            reason: `${name} ${shown(value(src, s, Math.min(e, s + 160)))} is ${chars} characters long, more than its maximum of ${column.maxLength}`,
          };
        }
      }
      out.escaped(src, s, e);
      return undefined;
    }
    return typed!(src, s, e, out);
  };
}

type Reject = (src: Buffer, s: number, e: number, detail?: string) => ContractReject;
type RangeReject = (src: Buffer, s: number, e: number, detail: string) => ContractReject;
type RuleReject = (src: Buffer, s: number, e: number, rule: ParsedRule) => ContractReject;

function typeCheck(
  type: ParsedType,
  ds: string,
  rules: ParsedRule[],
  typeReject: Reject,
  rangeReject: RangeReject,
  ruleReject: RuleReject,
  name: string,
): Check {
  switch (type.kind) {
    case 'integer':
      return (src, s, e, out) => {
        const n = readInteger(src, s, e);
        if (n === undefined) return typeReject(src, s, e);
        if (n === 'range') return rangeReject(src, s, e, '(out of the bigint range)');
        for (const rule of rules) if (!compareNumber(n.sign, n.zero, () => Number(src.toString('latin1', s, e)), rule)) return ruleReject(src, s, e, rule);
        if (n.zero) out.byte(ZERO);
        else {
          if (n.sign < 0) out.byte(MINUS);
          out.plain(src, n.digits, e);
        }
        return undefined;
      };
    case 'decimal':
      return (src, s, e, out) => {
        const d = readDecimal(src, s, e, type.precision, type.scale);
        if (d === undefined) return typeReject(src, s, e);
        if (d === 'range')
          return rangeReject(src, s, e, `without losing digits (at most ${type.precision - type.scale} before the point and ${type.scale} after)`);
        for (const rule of rules) if (!compareNumber(d.sign, d.zero, () => Number(src.toString('latin1', s, e)), rule)) return ruleReject(src, s, e, rule);
        if (d.exponent) out.ascii(normalizedDecimal(src, d));
        else out.plain(src, src[s] === PLUS ? s + 1 : s, e);
        return undefined;
      };
    case 'date': {
      // ISO dates compare as bytes: each rule's operand once, as a buffer.
      const operands = rules.map((rule) => Buffer.from(rule.operand === 'ds' ? ds : String(rule.operand), 'latin1'));
      return (src, s, e, out) => {
        if (!isDate(src, s, e)) return typeReject(src, s, e, ' (YYYY-MM-DD)');
        for (let r = 0; r < rules.length; r++) {
          if (!holds(compareBytes(src, s, e, operands[r]), rules[r].op)) return ruleReject(src, s, e, rules[r]);
        }
        out.plain(src, s, e);
        return undefined;
      };
    }
    case 'timestamp':
    case 'timestamptz':
      return (src, s, e, out) => {
        const text = src.toString('utf8', s, e);
        if (!isTimestamp(text, type.kind === 'timestamptz')) {
          return typeReject(
            src,
            s,
            e,
            type.kind === 'timestamp' ? ' (YYYY-MM-DD HH:MM[:SS[.ffffff]])' : ' (YYYY-MM-DD HH:MM[:SS[.ffffff]] with Z or an offset such as +02:00)',
          );
        }
        out.plain(src, s, e);
        return undefined;
      };
    case 'boolean':
      return (src, s, e, out) => {
        const v = src.toString('utf8', s, e).toLowerCase();
        if (TRUE.has(v)) out.byte(0x74);
        else if (FALSE.has(v)) out.byte(0x66);
        else return typeReject(src, s, e, ` (${[...TRUE].join('/')} or ${[...FALSE].join('/')})`);
        return undefined;
      };
    case 'text':
      throw new Error(`column ${name}: text is checked by its caller`);
  }
}

/** src[s, e) against `b`, as bytes: -1, 0 or 1 (a loop: native compare costs more on ten bytes). */
function compareBytes(src: Buffer, s: number, e: number, b: Buffer): number {
  const n = Math.min(e - s, b.length);
  for (let k = 0; k < n; k++) {
    const x = src[s + k];
    const y = b[k];
    if (x !== y) return x < y ? -1 : 1;
  }
  return e - s === b.length ? 0 : e - s < b.length ? -1 : 1;
}

const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

function holds(c: number, op: ParsedRule['op']): boolean {
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
  }
}

/** A rule against a number; exact against 0 (by sign), by the value's double otherwise. */
function compareNumber(sign: number, zero: boolean, valueOf: () => number, rule: ParsedRule): boolean {
  const operand = rule.operand as number;
  if (operand === 0) return holds(zero ? 0 : sign, rule.op);
  const v = valueOf();
  return holds(v < operand ? -1 : v > operand ? 1 : 0, rule.op);
}

interface IntegerValue {
  sign: number;
  zero: boolean;
  /** Where the digits start, leading zeros skipped. */
  digits: number;
}

const BIGINT_MAX = '9223372036854775807';
const BIGINT_MIN = '9223372036854775808';

function readInteger(src: Buffer, s: number, e: number): IntegerValue | 'range' | undefined {
  let i = s;
  let sign = 1;
  if (src[i] === PLUS || src[i] === MINUS) {
    if (src[i] === MINUS) sign = -1;
    i++;
  }
  if (i === e) return undefined;
  for (let j = i; j < e; j++) if (src[j] < ZERO || src[j] > NINE) return undefined;
  while (i < e - 1 && src[i] === ZERO) i++;
  const length = e - i;
  const zero = length === 1 && src[i] === ZERO;
  if (length > 19) return 'range';
  if (length === 19 && src.toString('latin1', i, e) > (sign < 0 ? BIGINT_MIN : BIGINT_MAX)) return 'range';
  return { sign, zero, digits: i };
}

interface DecimalValue {
  sign: number;
  zero: boolean;
  exponent: boolean;
  intStart: number;
  intEnd: number;
  fracStart: number;
  fracEnd: number;
  /** Digits before the point, counted in the integer part's and fraction's digits as one run. */
  point: number;
  /** The first and last non-zero digit of that run. */
  first: number;
  last: number;
}

/** One decimal read at a time, reused: a field is checked without allocating. */
const DECIMAL: DecimalValue = { sign: 1, zero: false, exponent: false, intStart: 0, intEnd: 0, fracStart: 0, fracEnd: 0, point: 0, first: 0, last: 0 };

/**
 * `[+-]digits[.digits][e[+-]digits]`, `.5`, `5.`: every spelling Postgres' numeric reads. The
 * value must fit decimal(p,s) without losing a non-zero digit (12.500 fits (12,2), 1.999 does not).
 */
function readDecimal(src: Buffer, s: number, e: number, precision: number, scale: number): DecimalValue | 'range' | undefined {
  let i = s;
  let sign = 1;
  if (src[i] === PLUS || src[i] === MINUS) {
    if (src[i] === MINUS) sign = -1;
    i++;
  }
  const intStart = i;
  while (i < e && src[i] >= ZERO && src[i] <= NINE) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < e && src[i] === DOT) {
    i++;
    fracStart = i;
    while (i < e && src[i] >= ZERO && src[i] <= NINE) i++;
    fracEnd = i;
  }
  if (intEnd === intStart && fracEnd === fracStart) return undefined;
  let exp = 0;
  let hasExp = false;
  if (i < e && (src[i] === 0x65 || src[i] === 0x45)) {
    hasExp = true;
    i++;
    let expSign = 1;
    if (src[i] === PLUS || src[i] === MINUS) {
      if (src[i] === MINUS) expSign = -1;
      i++;
    }
    const expStart = i;
    while (i < e && src[i] >= ZERO && src[i] <= NINE) i++;
    if (i === expStart) return undefined;
    // Beyond a few digits the exponent only matters for zero.
    let value = 0;
    for (let k = expStart; k < Math.min(i, expStart + 7); k++) value = value * 10 + (src[k] - ZERO);
    exp = expSign * value;
  }
  if (i !== e) return undefined;
  // The digits as one run (the integer part's, then the fraction's) with the point `point` digits in.
  const intLength = intEnd - intStart;
  const length = intLength + (fracEnd - fracStart);
  const point = intLength + exp;
  let first = 0;
  while (first < length && (first < intLength ? src[intStart + first] : src[fracStart + first - intLength]) === ZERO) first++;
  const d = DECIMAL;
  d.sign = sign;
  d.exponent = hasExp;
  d.zero = first === length;
  if (d.zero) return d;
  let last = length - 1;
  while ((last < intLength ? src[intStart + last] : src[fracStart + last - intLength]) === ZERO) last--;
  if (point - first > precision - scale || last + 1 - point > scale) return 'range';
  d.intStart = intStart;
  d.intEnd = intEnd;
  d.fracStart = fracStart;
  d.fracEnd = fracEnd;
  d.point = point;
  d.first = first;
  d.last = last;
  return d;
}

/** A decimal written with an exponent, as plain decimal text (the rare path). */
function normalizedDecimal(src: Buffer, d: DecimalValue): string {
  if (d.zero) return '0';
  const digits = src.toString('latin1', d.intStart, d.intEnd) + src.toString('latin1', d.fracStart, d.fracEnd);
  const { point, first, last } = d;
  const intPart = point > first ? digits.slice(first, point).padEnd(point - first, '0') : '0';
  const frac = last + 1 - point > 0 ? `.${(point < 0 ? '0'.repeat(-point) : '') + digits.slice(Math.max(point, 0), last + 1)}` : '';
  return `${d.sign < 0 ? '-' : ''}${intPart}${frac}`;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  return d <= (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]);
}

/** YYYY-MM-DD, a real calendar day. */
function isDate(src: Buffer, s: number, e: number): boolean {
  if (e - s !== 10 || src[s + 4] !== MINUS || src[s + 7] !== MINUS) return false;
  let y = 0;
  let m = 0;
  let d = 0;
  for (let j = 0; j < 10; j++) {
    if (j === 4 || j === 7) continue;
    const b = src[s + j];
    if (b < ZERO || b > NINE) return false;
    if (j < 4) y = y * 10 + (b - ZERO);
    else if (j < 7) m = m * 10 + (b - ZERO);
    else d = d * 10 + (b - ZERO);
  }
  return validDate(y, m, d);
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function isTimestamp(text: string, withZone: boolean): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  if (Boolean(m[7]) !== withZone) return false;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0));
  return validDate(y, mo, d) && h <= 23 && mi <= 59 && sec <= 59;
}
