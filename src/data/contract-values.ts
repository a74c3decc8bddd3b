/**
 * The column contract's value readers: bytes of a field read as an integer, a decimal, a date or
 * a timestamp in place, without making a string, and compared against a rule.
 */
import type { ParsedRule } from '../column-contract';

const TAB = 0x09;
const SPACE = 0x20;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

export function trimStart(src: Buffer, s: number, e: number): number {
  while (s < e && (src[s] === SPACE || src[s] === TAB)) s++;
  return s;
}
export function trimEnd(src: Buffer, s: number, e: number): number {
  while (e > s && (src[e - 1] === SPACE || src[e - 1] === TAB)) e--;
  return e;
}

/** src[s, e) against `b`, as bytes: -1, 0 or 1 (a loop: native compare costs more on ten bytes). */
export function compareBytes(src: Buffer, s: number, e: number, b: Buffer): number {
  const n = Math.min(e - s, b.length);
  for (let k = 0; k < n; k++) {
    const x = src[s + k];
    const y = b[k];
    if (x !== y) return x < y ? -1 : 1;
  }
  return e - s === b.length ? 0 : e - s < b.length ? -1 : 1;
}

export const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
export const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

export function holds(c: number, op: ParsedRule['op']): boolean {
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
export function compareNumber(sign: number, zero: boolean, valueOf: () => number, rule: ParsedRule): boolean {
  const operand = rule.operand as number;
  if (operand === 0) return holds(zero ? 0 : sign, rule.op);
  const v = valueOf();
  return holds(v < operand ? -1 : v > operand ? 1 : 0, rule.op);
}

export interface IntegerValue {
  sign: number;
  zero: boolean;
  /** Where the digits start, leading zeros skipped. */
  digits: number;
}

export const BIGINT_MAX = '9223372036854775807';
export const BIGINT_MIN = '9223372036854775808';

export function readInteger(src: Buffer, s: number, e: number): IntegerValue | 'range' | undefined {
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

export interface DecimalValue {
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
export const DECIMAL: DecimalValue = { sign: 1, zero: false, exponent: false, intStart: 0, intEnd: 0, fracStart: 0, fracEnd: 0, point: 0, first: 0, last: 0 };

/**
 * `[+-]digits[.digits][e[+-]digits]`, `.5`, `5.`: every spelling Postgres' numeric reads. The
 * value must fit decimal(p,s) without losing a non-zero digit (12.500 fits (12,2), 1.999 does not).
 */
export function readDecimal(src: Buffer, s: number, e: number, precision: number, scale: number): DecimalValue | 'range' | undefined {
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
export function normalizedDecimal(src: Buffer, d: DecimalValue): string {
  if (d.zero) return '0';
  const digits = src.toString('latin1', d.intStart, d.intEnd) + src.toString('latin1', d.fracStart, d.fracEnd);
  const { point, first, last } = d;
  const intPart = point > first ? digits.slice(first, point).padEnd(point - first, '0') : '0';
  const frac = last + 1 - point > 0 ? `.${(point < 0 ? '0'.repeat(-point) : '') + digits.slice(Math.max(point, 0), last + 1)}` : '';
  return `${d.sign < 0 ? '-' : ''}${intPart}${frac}`;
}

export const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

export function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  return d <= (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]);
}

/** YYYY-MM-DD, a real calendar day. */
export function isDate(src: Buffer, s: number, e: number): boolean {
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

export const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

export function isTimestamp(text: string, withZone: boolean): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  if (Boolean(m[7]) !== withZone) return false;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0));
  return validDate(y, mo, d) && h <= 23 && mi <= 59 && sec <= 59;
}
