/**
 * A column contract compiled for one file: the header matched to the contract's columns, and a
 * check per column that reads the field's bytes where the CSV reader split them and writes the
 * value as Postgres COPY text. A good record costs no JS string; a reject builds its reason
 * (naming the column, the value and the rule) and nothing else.
 */
import { parseColumnType, parseRule, validateContract, type ColumnContract, type ColumnSpec, type ParsedRule, type ParsedType } from '../column-contract';
import type { CopyWriter } from './copy-writer';
import { MAX_RAW_CHARS, type CsvRecord } from './csv-record';

import * as values from './contract-values';

// The value checks as this module's own constants, read once: imported by name, every call would
// go through the module object (a getter call per field under a CommonJS transform such as tsx's,
// which is how a worker loads a DAG's tasks and `baton/task`: 0.2 s per million rows, profiled).
const { FALSE, TRUE, compareBytes, compareNumber, holds, isDate, isTimestamp, normalizedDecimal, readDecimal, readInteger, trimEnd, trimStart } = values;
const TAB = 0x09;
const LF = 0x0a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const ZERO = 0x30;

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
  /**
   * For a key of required text columns: where the last record written put each key column's
   * COPY text in `out`, as [start, end) pairs in the key's order (the bytes Postgres stores).
   */
  keyText?: Int32Array;
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
  const keyColumns = (contract.key?.columns ?? []).map((name) => contract.columns.findIndex((c) => c.name === name));
  // Text stored as written, never NULL: equal keys are equal bytes.
  const textKey =
    keyColumns.length > 0 &&
    keyColumns.every((c) => parseColumnType(contract.columns[c].type).kind === 'text' && contract.columns[c].required !== false);
  const keyText = textKey ? new Int32Array(2 * keyColumns.length) : undefined;
  // Each column's place in keyText, or -1.
  const keySlot = new Int32Array(n).fill(-1);
  if (textKey) keyColumns.forEach((c, k) => (keySlot[c] = 2 * k));
  return {
    positions,
    keyText,
    write(record, out) {
      const mark = out.length;
      for (let c = 0; c < n; c++) {
        const f = positions[c];
        const start = out.length;
        const reject = checks[c](record.source(f), record.starts[f], record.ends[f], out);
        if (reject) {
          out.length = mark;
          return reject;
        }
        const slot = keySlot[c];
        if (slot >= 0) {
          keyText![slot] = start;
          keyText![slot + 1] = out.length;
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
  const isText = type.kind === 'text';
  const maxLength = column.maxLength ?? Infinity;

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
    if (isText) {
      // Characters, not bytes: every byte that is not a UTF-8 continuation byte starts one. No
      // more bytes than the maximum are no more characters, so only a longer value is counted.
      if (e - s > maxLength) {
        let chars = 0;
        for (let j = s; j < e; j++) if ((src[j] & 0xc0) !== 0x80) chars++;
        if (chars > maxLength) {
          return {
            column: name,
            rule: `${name}: max length ${maxLength}`,
            reason: `${name} ${shown(value(src, s, Math.min(e, s + 160)))} is ${chars} characters long, more than its maximum of ${maxLength}`,
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
