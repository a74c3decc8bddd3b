/**
 * Fuzz test of the CSV reader (src/data/csv.ts) against an independent reference built on
 * Python's csv module (test/fixtures/reference_csv.py). A few hundred files are generated from a
 * fixed seed, mixing valid rows with every kind of damage the reader must account for; each is
 * read by readCsv twice (in one chunk, and in random chunks of 1 byte to a few KB, so records
 * and quotes straddle chunk boundaries), the reference reads them all in one python3 run, and
 * header, records, malformed records and the line account must agree exactly.
 */
import assert from '../support/assert';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { isUtf8 } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import { readCsv, SplitMismatch, type CsvLineAccount, type CsvRecord } from '../../src/data/csv';
import { findSplit, windowBytes } from '../../src/data/csv-split';
import { numberedCsvSql, writeNumberedCsv } from '../../src/data/csv-file';
import { writePlainLines } from '../../src/data/plain-lines';
import { DuckDBInstance, type DuckDBConnection, type Json } from '@duckdb/node-api';
import { prng } from '../../scripts/sample-orders';
import { execFileAsync, tempDir, testNote } from '../support';

const FILES = 400;
const SEED = 20240115;
const REFERENCE = path.join(__dirname, '..', 'fixtures', 'reference_csv.py');

/** One DuckDB for every numbered file read back here. */
let duckdb: DuckDBInstance;
let connection: DuckDBConnection;
beforeAll(async () => {
  duckdb = await DuckDBInstance.create(':memory:', { threads: '2' });
  connection = await duckdb.connect();
});
afterAll(() => {
  connection?.closeSync();
  duckdb?.closeSync();
});
const query = async (sql: string, params: string[]): Promise<Record<string, Json>[]> => (await connection.runAndReadAll(sql, params)).getRowObjectsJson();

interface Rec {
  line: number;
  lines: number;
  fields: string[];
}
interface Read {
  header: Rec | null;
  records: Rec[];
  malformed: Array<{ line: number; kind: string }>;
  account: CsvLineAccount;
}

// ---- Generation -----------------------------------------------------------------------------

type Random = () => number;
const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const chance = (r: Random, p: number) => r() < p;
const b = (s: string) => Buffer.from(s, 'utf8');

const WORDS = [
  '1',
  '42',
  '-7',
  '9.99',
  '2024-01-15',
  'shipped',
  'pending',
  'delivered',
  'a b',
  '',
  ' ',
  'é',
  'café',
  'naïve',
  '日本',
  '日本語テキスト',
  '😀',
  '\ufeffbom',
  'x;y',
  "it's",
];
const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xe6, 0x97],
  [0xe6],
  [0xc3],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf0, 0x9f, 0x98],
  [0xef, 0xbb],
];

/** Inside a quoted field: commas, line breaks, "" and text of every width. */
function quotedInner(r: Random, dirty: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let n = int(r, 0, 4); n > 0; n--) {
    const x = r();
    if (x < 0.3) parts.push(b(pick(r, WORDS)));
    else if (x < 0.45) parts.push(b(','));
    else if (x < 0.55) parts.push(b('\n'));
    else if (x < 0.65) parts.push(b('\r\n'));
    else if (x < 0.8) parts.push(b('""'));
    else if (dirty && x < 0.85) parts.push(b('\r'));
    else if (dirty && x < 0.9) parts.push(Buffer.from([0]));
    else if (dirty && x < 0.95) parts.push(Buffer.from(pick(r, INVALID_UTF8)));
    else parts.push(b(pick(r, WORDS)));
  }
  return Buffer.concat(parts);
}

/** A damaged header name: a NUL, a lone CR, invalid UTF-8, a quote mid-name or one left open. */
function headerDamage(r: Random): Buffer {
  const x = r();
  if (x < 0.25) return Buffer.concat([b('id'), Buffer.from([0]), b(pick(r, ['x', '']))]);
  if (x < 0.5) return b(pick(r, ['id\rx', 'a\r"b', '"a\rb"']));
  if (x < 0.6) return Buffer.concat([b(pick(r, ['id', ''])), Buffer.from(pick(r, INVALID_UTF8)), b(pick(r, ['"', 'x"', 'y', '']))]);
  if (x < 0.75) return Buffer.concat([b('"n'), Buffer.from(pick(r, INVALID_UTF8)), b(pick(r, ['"', 'x"', '"""']))]);
  if (x < 0.9) return b(pick(r, ['amount"', 'a"b"c', '"a""b"tail']));
  return b(pick(r, ['"open', '"open\nto the end', '"a""b']));
}

/** One field as written. `dirty` allows every kind of damage. */
function field(r: Random, dirty: boolean): Buffer {
  const x = r();
  if (x < 0.55) return b(pick(r, WORDS));
  if (x < 0.75) return Buffer.concat([b('"'), quotedInner(r, dirty), b('"')]);
  if (!dirty) {
    if (x < 0.85) return b(`${pick(r, WORDS)}"${chance(r, 0.5) ? pick(r, WORDS) : ''}`); // a quote mid-field is literal
    if (x < 0.93) return Buffer.concat([b('"'), quotedInner(r, false), b('"'), b(pick(r, ['c', 'xyz', ' tail', '"', 'a"b']))]); // text after the closing quote
    return b(pick(r, ['""', '""""', '"a""b"', '" "']));
  }
  if (x < 0.8) return b(`${pick(r, ['shipped', 'a', '5', ''])}"${chance(r, 0.3) ? 'x' : ''}`);
  if (x < 0.84) return Buffer.concat([b('"'), quotedInner(r, dirty), b('"'), b(pick(r, ['c', 'xyz', '"', '""', ' "q"']))]);
  if (x < 0.89) return Buffer.concat([b('"'), b(pick(r, WORDS))]); // opens a quote that closes later, or never
  if (x < 0.92) return Buffer.concat([b(pick(r, ['a', '', 'x y'])), Buffer.from([0]), b(pick(r, ['b', '']))]);
  if (x < 0.95) return Buffer.concat([b(pick(r, ['a', '', '1'])), b('\r'), b(pick(r, ['b', '2', '"']))]);
  return Buffer.concat([b(pick(r, ['a', '', '日'])), Buffer.from(pick(r, INVALID_UTF8)), b(pick(r, ['b', '']))]);
}

function row(r: Random, columns: number, dirty: boolean, wrongCount: number): Buffer {
  let n = columns;
  if (chance(r, wrongCount)) n = Math.max(1, columns + pick(r, [-2, -1, 1, 1, 2]));
  const fields: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) fields.push(b(','));
    fields.push(field(r, dirty));
  }
  return Buffer.concat(fields);
}

/** A generated file: its bytes and what kind it is (for the failure message). */
function generate(r: Random, index: number): { data: Buffer; kind: string } {
  // A few fixed shapes first, then random ones.
  const fixed: Array<[string, string | Buffer]> = [
    ['empty', ''],
    ['BOM only', Buffer.from([0xef, 0xbb, 0xbf])],
    ['partial BOM', Buffer.from([0xef, 0xbb])],
    ['LF only', '\n'],
    ['CR only', '\r'],
    ['CRLF only', '\r\n'],
    ['blank lines only', '\n\r\n\n\r\n'],
    ['blank lines, final CR', '\n\n\r'],
    ['header only', 'a,b,c'],
    ['header only, LF', 'a,b,c\n'],
    ['header only, CRLF', 'a,b,c\r\n'],
    ['header only, final CR', 'a,b,c\r'],
    ['header with quoted line break', '"a\nb",c\n1,2\n'],
    ['quote closed lines later', 'a,b\n"x,1\n2,3\n4,y",5\n6,7\n'],
    ['lone CR before LF', 'a,b\n1,2\r\r\n3,4\n'],
    ['NUL in header', 'a\0,b\n1,2\n'],
    ['invalid UTF-8 header', Buffer.from([0x61, 0xff, 0x2c, 0x62, 0x0a, 0x31, 0x2c, 0x32, 0x0a])],
  ];
  if (index < fixed.length) {
    const [kind, data] = fixed[index];
    return { data: Buffer.isBuffer(data) ? data : b(data), kind };
  }

  const profile = r();
  const dirty = profile >= 0.35; // about a third of the files are clean: their records are all compared field by field
  const columns = chance(r, 0.1) ? int(r, 1, 2) : int(r, 3, 6);
  const rows = chance(r, 0.1) ? 0 : int(r, 0, 40);
  const eolStyle = pick(r, ['LF', 'LF', 'CRLF', 'mixed'] as const);
  const eol = () => (eolStyle === 'LF' ? '\n' : eolStyle === 'CRLF' ? '\r\n' : pick(r, ['\n', '\r\n']));
  const blankRate = chance(r, 0.5) ? 0 : 0.1;
  const damage = dirty ? pick(r, [0.05, 0.15, 0.4]) : 0;
  const wrongCount = dirty ? pick(r, [0, 0.05, 0.2]) : 0;

  const parts: Buffer[] = [];
  if (chance(r, 0.15)) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  for (let n = chance(r, 0.1) ? int(r, 1, 3) : 0; n > 0; n--) parts.push(b(eol()));
  const names = Array.from({ length: columns }, (_, i) =>
    dirty && chance(r, 0.03)
      ? headerDamage(r)
      : b(pick(r, ['order_id', 'customer_id', 'amount', 'status', 'é', '日本', `c${i}`, '"quoted, name"', '"two\nlines"', 'x"y'])),
  );
  parts.push(Buffer.concat(names.flatMap((name, i) => (i > 0 ? [b(','), name] : [name]))));
  for (let i = 0; i < rows; i++) {
    // Each line ends with the file's line end; a damaged file sometimes ends a row with a lone CR
    // instead (never the header's: the next row, on the header's line, may open a quote).
    parts.push(dirty && i > 0 && chance(r, 0.03) ? b('\r') : b(eol()));
    for (; chance(r, blankRate);) parts.push(b(eol()));
    parts.push(row(r, columns, chance(r, damage), wrongCount));
  }
  const end = r();
  if (end < 0.55) parts.push(b(eol()));
  else if (end < 0.7) parts.push(b('\r'));
  else if (end < 0.8) parts.push(b(`${eol()}${eol()}`));
  // else: no final line end
  return { data: Buffer.concat(parts), kind: `${dirty ? 'dirty' : 'clean'}, ${columns} columns, ${rows} rows, ${eolStyle}` };
}

/** Chunk sizes for a file: random, from 1 byte up to a few KB, now and then an empty chunk. */
function chunking(r: Random, length: number): number[] {
  const max = pick(r, [1, 3, 16, 256, 4096]);
  const sizes: number[] = [];
  for (let at = 0; at < length;) {
    const size = chance(r, 0.01) ? 0 : Math.min(length - at, int(r, 1, max));
    sizes.push(size);
    at += size;
  }
  return sizes;
}

async function* chunks(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const size of sizes) {
    yield data.subarray(at, at + size);
    at += size;
  }
}

async function readTs(data: Buffer, sizes: number[], maxRecordBytes?: number): Promise<Read & { bytes: number }> {
  let header: Rec | null = null;
  const records: Rec[] = [];
  const malformed: Read['malformed'] = [];
  const result = await readCsv(chunks(data, sizes), {
    maxRecordBytes,
    header(rec) {
      header = { line: rec.line, lines: rec.lines, fields: rec.texts() };
    },
    record(rec) {
      records.push({ line: rec.line, lines: rec.lines, fields: rec.texts() });
    },
    malformed(line, kind) {
      malformed.push({ line, kind });
    },
  });
  const { bytes, lines, header: headerLines, blank, records: recordCount, recordLines, malformed: malformedCount } = result;
  return { header, records, malformed, account: { lines, header: headerLines, blank, records: recordCount, recordLines, malformed: malformedCount }, bytes };
}

const identity = (a: CsvLineAccount) => a.lines === a.header + a.blank + a.recordLines + a.malformed;

interface Case {
  data: Buffer;
  kind: string;
}

/** Writes the cases into `dir` and reads them all with the Python reference, in one run: the files and its reads, in order. */
async function referenceReads(dir: string, cases: Case[]): Promise<{ files: string[]; expected: Read[] }> {
  const files = cases.map((_, i) => path.join(dir, `f${String(i).padStart(4, '0')}.csv`));
  await Promise.all(cases.map((c, i) => writeFile(files[i], c.data)));
  const { stdout } = await execFileAsync('python3', [REFERENCE, ...files], { maxBuffer: 256 << 20, timeout: 60_000 });
  const expected = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Read);
  assert.equal(expected.length, cases.length, 'one reference result per file');
  return { files, expected };
}

/**
 * Writes the files, runs the reference once over all of them, reads each with readCsv in one
 * chunk and in random chunks, and returns every disagreement (with the file's content, so that
 * it can be replayed) and what the reference found.
 */
async function compare(cases: Case[], r: Random): Promise<{ failures: string[]; records: number; byKind: Record<string, number> }> {
  const dir = await tempDir('baton-csv-fuzz-');
  try {
    const { expected } = await referenceReads(dir, cases);

    const failures: string[] = [];
    const found = { records: 0, byKind: {} as Record<string, number> };
    for (const [i, c] of cases.entries()) {
      const ref = expected[i];
      const sizes = chunking(r, c.data.length);
      const describe = (what: string) =>
        `file #${i} (${c.kind}), ${what}\ncontent (bytes as latin1, JSON; replay with Buffer.from(JSON.parse(s), 'latin1')): ${JSON.stringify(c.data.toString('latin1'))}\n` +
        `content (as UTF-8, JSON): ${JSON.stringify(c.data.toString('utf8'))}`;
      if (!identity(ref.account))
        failures.push(describe(`the reference's account breaks lines = header + blank + recordLines + malformed: ${JSON.stringify(ref.account)}`));
      for (const [how, s] of [
        ['one chunk', c.data.length > 0 ? [c.data.length] : []],
        [`chunks of ${JSON.stringify(sizes)} bytes`, sizes],
      ] as const) {
        const actual = await readTs(c.data, s);
        if (actual.bytes !== c.data.length) failures.push(describe(`read in ${how}: bytes ${actual.bytes}, the file has ${c.data.length}`));
        if (!identity(actual.account))
          failures.push(describe(`read in ${how}: the account breaks lines = header + blank + recordLines + malformed: ${JSON.stringify(actual.account)}`));
        for (const part of ['header', 'records', 'malformed', 'account'] as const) {
          try {
            assert.deepStrictEqual(actual[part], ref[part]);
          } catch (e) {
            failures.push(describe(`read in ${how}: ${part} differs (actual: readCsv, expected: the reference)\n${(e as Error).message}`));
          }
        }
      }
      found.records += ref.records.length;
      for (const m of ref.malformed) found.byKind[m.kind] = (found.byKind[m.kind] ?? 0) + 1;
    }
    return { failures, ...found };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const report = (failures: string[]) => `${failures.length} mismatches; the first ones:\n\n${failures.slice(0, 5).join('\n\n')}`;

test('readCsv agrees with the Python csv reference on generated files', async () => {
  const started = Date.now();
  const r = prng(SEED);
  const cases = Array.from({ length: FILES }, (_, i) => generate(r, i));
  const { failures, records, byKind } = await compare(cases, r);
  assert.equal(failures.length, 0, report(failures));

  // The files must exercise what they are meant to: records to compare, and every kind of malformed record.
  assert.ok(records > 2000, `only ${records} records`);
  for (const kind of ['unbalanced quote', 'NUL byte', 'lone CR', 'invalid UTF-8', 'field count'])
    assert.ok((byKind[kind] ?? 0) >= 20, `only ${byKind[kind] ?? 0} '${kind}' records: ${JSON.stringify(byKind)}`);
  const ms = Date.now() - started;
  testNote(`${cases.length} files (${cases.reduce((n, c) => n + c.data.length, 0)} bytes), ${records} records, malformed ${JSON.stringify(byKind)}, ${ms} ms`);
}, 300_000);

/**
 * A header whose quoted field is still open at the end of the file (the caller refuses it): its
 * fields are Python's (the open field as it stands at EOF) and its lines are the file's.
 */
test('readCsv on a header whose quote never closes', async () => {
  const cases: Case[] = [
    { kind: 'header, a quote open to EOF, final LF', data: b('"\n') },
    { kind: 'header, a quote open to EOF, no final LF', data: b('a,"b') },
    { kind: 'header, a quote open to EOF over lines', data: b('a,"b,c\n1,2,3\n') },
  ];
  const { failures } = await compare(cases, prng(SEED));
  assert.equal(failures.length, 0, report(failures));
});

// ---- The fast path for plain files ---------------------------------------------------------

/** Words with no quote, CR or NUL: what a plain file is made of (text, blanks, spaces, every width). */
const PLAIN_WORDS = WORDS.filter((w) => !w.includes('"'));
/** What makes a file not plain, put somewhere in an otherwise plain file. */
const NOT_PLAIN: ReadonlyArray<[string, () => Buffer]> = [
  ['a quote', () => b('"')],
  ['a quoted field', () => b('"x,\ny"')],
  ['a CR', () => b('\r')],
  ['a CRLF', () => b('\r\n')],
  ['a NUL', () => Buffer.from([0])],
  ['invalid UTF-8', () => Buffer.from([0xc3])],
];
/** The limit the fast path is run with here: lines longer than it are left to the reader. */
const PLAIN_MAX = 2048;

/** A file of plain lines (blank lines, a BOM, other field counts, long lines), now and then with one thing that is not plain. */
function generatePlain(r: Random): { data: Buffer; kind: string; damage?: string } {
  const columns = chance(r, 0.15) ? 1 : int(r, 2, 6);
  const rows = chance(r, 0.05) ? 0 : int(r, 10, 80);
  const word = () =>
    chance(r, 0.02)
      ? b(pick(r, [() => '😀'.repeat(int(r, 450, 510)), () => 'é'.repeat(int(r, 900, 1020)), () => 'x'.repeat(int(r, 900, 1100))])()) // a malformed line's raw text is cut at 1000 UTF-16 units
      : b(pick(r, PLAIN_WORDS));
  const line = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => (i > 0 ? [b(','), word()] : [word()])).flat());
  const parts: Buffer[] = [];
  if (chance(r, 0.2)) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  for (let n = chance(r, 0.1) ? int(r, 1, 3) : 0; n > 0; n--) parts.push(b('\n'));
  parts.push(
    Buffer.concat(Array.from({ length: columns }, (_, i) => (i > 0 ? [b(','), b(pick(r, [...PLAIN_WORDS, ' amount ', `c${i}`]))] : [b(`c${i}`)])).flat()),
  );
  for (let i = 0; i < rows; i++) {
    parts.push(b('\n'));
    for (; chance(r, 0.05);) parts.push(b('\n'));
    parts.push(line(chance(r, 0.1) ? Math.max(1, columns + pick(r, [-2, -1, 1, 3])) : columns));
  }
  const end = r();
  if (end < 0.6) parts.push(b('\n'));
  else if (end < 0.75) parts.push(b('\n\n'));
  let damage: string | undefined;
  if (chance(r, 0.2)) {
    const data = Buffer.concat(parts);
    const at = int(r, 0, data.length);
    if (chance(r, 0.15)) {
      damage = 'a line longer than the limit';
      return {
        data: Buffer.concat([data.subarray(0, at), b('\n'), b('y'.repeat(PLAIN_MAX + int(r, 1, 100))), b('\n'), data.subarray(at)]),
        kind: 'plain, then damaged',
        damage,
      };
    }
    const [name, make] = pick(r, NOT_PLAIN);
    damage = name;
    return { data: Buffer.concat([data.subarray(0, at), make(), data.subarray(at)]), kind: 'plain, then damaged', damage };
  }
  return { data: Buffer.concat(parts), kind: `plain, ${columns} columns, ${rows} rows` };
}

/** The fast path's reading of a file: numbered in chunks, then read back by DuckDB as transformOrders reads it. */
async function readPlain(
  data: Buffer,
  sizes: number[],
  dir: string,
  bufferSize?: number,
): Promise<(Read & { bytes: number; rejects: string[] }) | { notPlain: string }> {
  const output = path.join(dir, 'numbered.csv');
  let header: Rec | null = null;
  const result = await writePlainLines(chunks(data, sizes), output, {
    maxRecordBytes: PLAIN_MAX,
    header(fields, line) {
      header = { line, lines: 1, fields };
    },
  });
  if (!result.plain) return { notPlain: result.reason };
  const fields = result.header.length;
  const records: Rec[] = [];
  const malformed: Read['malformed'] = [];
  const rejects: string[] = [];
  if (fields > 0) {
    const names = Array.from({ length: fields }, (_, i) => `c${i}`);
    // Each text after a marker character: the client's UTF-8 decoding would drop a BOM that starts a value.
    const sql = `SELECT source_line, malformed_reason, chr(1) || malformed_raw AS malformed_raw, ${names.map((n) => `chr(1) || ${n} AS ${n}`).join(', ')}
                 FROM (${numberedCsvSql({ fields, positions: names.map((_, i) => i) }, names, { maxRecordBytes: PLAIN_MAX, bufferSize })}) ORDER BY source_line`;
    for (const row of await query(sql, [output])) {
      if (row.malformed_reason !== null) {
        malformed.push({ line: Number(row.source_line), kind: 'field count' });
        rejects.push(`${row.source_line}: ${row.malformed_reason}: ${(row.malformed_raw as string).slice(1)}`);
      } else records.push({ line: Number(row.source_line), lines: 1, fields: names.map((n) => ((row[n] ?? '\u0001') as string).slice(1)) });
    }
  }
  return { header, records, malformed, rejects, account: result.account, bytes: result.bytes };
}

/** The CSV reader's malformed records of a file: line, reason and raw text, as a numbered CSV carries them. */
async function readerRejects(data: Buffer): Promise<string[]> {
  const rejects: string[] = [];
  await readCsv([data], { header() {}, record() {}, malformed: (line, _kind, reason, raw) => rejects.push(`${line}: ${reason}: ${raw}`) });
  return rejects;
}

test('the fast path for plain files agrees with the Python csv reference, and leaves every other file to the reader', async () => {
  const r = prng(SEED + 1);
  const cases = Array.from({ length: 250 }, () => generatePlain(r));
  // The generated files of the reader's own test that happen to be plain are read this way too.
  const r0 = prng(SEED);
  cases.push(...Array.from({ length: FILES }, (_, i) => generate(r0, i)));
  const dir = await tempDir('baton-csv-plain-');
  try {
    const { expected } = await referenceReads(dir, cases);
    const failures: string[] = [];
    let plain = 0;
    let records = 0;
    let malformed = 0;
    for (const [i, c] of cases.entries()) {
      const describe = (what: string) => `file #${i} (${c.kind}), ${what}\ncontent (as UTF-8, JSON): ${JSON.stringify(c.data.toString('utf8'))}`;
      const notPlainBytes = c.data.includes('"') || c.data.includes('\r') || c.data.includes(0) || !isUtf8(c.data);
      const longLine = c.data
        .toString('latin1')
        .split('\n')
        .some((l) => Buffer.byteLength(l, 'latin1') > PLAIN_MAX + (l.startsWith('\xef\xbb\xbf') ? 3 : 0));
      const sizes = chunking(r, c.data.length);
      for (const [how, s, bufferSize] of [
        ['one chunk', c.data.length > 0 ? [c.data.length] : [], undefined],
        [`chunks of ${JSON.stringify(sizes)} bytes, DuckDB reading 4 KiB buffers`, sizes, 4096 + 2 * PLAIN_MAX + 4096],
      ] as const) {
        const actual = await readPlain(c.data, [...s], dir, bufferSize);
        if ('notPlain' in actual) {
          if (!notPlainBytes && !longLine) failures.push(describe(`read in ${how}: left to the reader (${actual.notPlain}), but it is plain`));
          continue;
        }
        if (notPlainBytes || longLine) {
          failures.push(describe(`read in ${how}: read as plain, but it holds a quote, CR, NUL, invalid UTF-8 or a long line`));
          continue;
        }
        if (actual.bytes !== c.data.length) failures.push(describe(`read in ${how}: bytes ${actual.bytes}, the file has ${c.data.length}`));
        for (const part of ['header', 'records', 'malformed', 'account'] as const) {
          try {
            assert.deepStrictEqual(actual[part], expected[i][part]);
          } catch (e) {
            failures.push(describe(`read in ${how}: ${part} differs (actual: the fast path, expected: the reference)\n${(e as Error).message}`));
          }
        }
        if (how === 'one chunk') {
          // The reasons and raw texts the reader gives, to the character.
          try {
            assert.deepStrictEqual(actual.rejects, await readerRejects(c.data));
          } catch (e) {
            failures.push(describe(`malformed lines' reasons or raw texts differ (actual: the fast path, expected: readCsv)\n${(e as Error).message}`));
          }
          plain++;
          records += actual.records.length;
          malformed += actual.malformed.length;
        }
      }
    }
    assert.equal(failures.length, 0, report(failures));
    assert.ok(plain >= 150 && records >= 5000 && malformed >= 300, `plain files ${plain}, records ${records}, malformed ${malformed}`);
    testNote(`fast path: ${plain} plain files of ${cases.length}, ${records} records, ${malformed} malformed lines`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 300_000);

/**
 * Files built so that what is not plain sits on the boundary of the 1 MiB chunks a data file is
 * read in: each goes through writeNumberedCsv (the fast path gives up, the reader reads it from
 * the start) and DuckDB reads the numbered rows back, which must be the reference's records and
 * malformed lines.
 */
test('files with a quoted line break, a stray quote, a CRLF or a record over 1 MiB on a chunk boundary read as the reference reads them', async () => {
  const CHUNK = 1 << 20;
  const header = 'c0,c1,c2,c3,c4\n';
  /** Plain rows up to `at` bytes into the file (the header included). */
  const plainUpTo = (at: number) => {
    const rows: string[] = [header];
    let length = header.length;
    for (let i = 1; length < at - 40; i++) {
      const row = `${i},customer ${i % 97},2024-01-15,${i % 1000}.25,shipped\n`;
      rows.push(row);
      length += row.length;
    }
    const filler = at - length - 1; // one last row fills the gap exactly: `<n>,x,x,x,<filler>\n`
    rows.push(`0,x,x,x,${'f'.repeat(Math.max(0, filler - 8))}\n`);
    return rows.join('');
  };
  const tail = '7,after,2024-01-15,1,shipped\n8,after,2024-01-15,2,shipped\n';
  const cases: Array<{ kind: string; data: Buffer }> = [
    { kind: 'a quoted line break across the boundary', data: b(`${plainUpTo(CHUNK - 6)}9,"a\nb",x,1,y\n${tail}`) },
    { kind: 'a stray quote as the last byte of the first chunk', data: b(`${plainUpTo(CHUNK - 3)}9"x,y,z,1,w\n${tail}`) },
    { kind: 'a CR last in the first chunk, its LF first in the second', data: b(`${plainUpTo(CHUNK - 12)}9,a,b,1,c\r\n${tail}`) },
    { kind: 'a record over 1 MiB across the boundary', data: b(`${plainUpTo(CHUNK - 100)}9,${'r'.repeat(CHUNK + 10)},b,1,c\n${tail}`) },
  ];
  const dir = await tempDir('baton-csv-boundary-');
  try {
    const { files, expected } = await referenceReads(dir, cases);
    const names = ['c0', 'c1', 'c2', 'c3', 'c4'];
    const contract = { header: 'exact' as const, columns: names.map((name) => ({ name, type: 'text' as const, required: false, trim: false })) };
    for (const [i, c] of cases.entries()) {
      const sizes = Array.from({ length: Math.ceil(c.data.length / CHUNK) }, (_, k) => Math.min(CHUNK, c.data.length - k * CHUNK));
      const output = path.join(dir, `b${i}.numbered.csv`);
      const written = await writeNumberedCsv(() => chunks(c.data, sizes), output, contract, files[i]);
      assert.notEqual(written.path, 'plain', `${c.kind}: read as plain`);
      const rows = await query(
        `SELECT source_line, malformed_reason IS NOT NULL AS bad, ${names.map((n) => `chr(1) || ${n} AS ${n}`).join(', ')} FROM (${numberedCsvSql(written, names)}) ORDER BY source_line`,
        [output],
      );
      // The reference has no record limit: a record over 1 MiB is one of its records, and malformed ('too long') here.
      const ref = expected[i];
      const tooLong = ref.records.filter((r) => Buffer.byteLength(r.fields.join(',')) > CHUNK).map((r) => r.line);
      const short = (text: string) => (text.length > 100 ? `${text.slice(0, 20)}... (${text.length} characters)` : text);
      assert.deepStrictEqual(
        rows.filter((r) => !r.bad).map((r) => ({ line: Number(r.source_line), fields: names.map((n) => short((r[n] as string).slice(1))) })),
        ref.records.filter((r) => !tooLong.includes(r.line)).map((r) => ({ line: r.line, fields: r.fields.map(short) })),
        c.kind,
      );
      assert.deepStrictEqual(
        rows.filter((r) => r.bad).map((r) => Number(r.source_line)),
        [...ref.malformed.map((m) => m.line), ...tooLong].sort((x, y) => x - y),
        c.kind,
      );
      assert.equal(written.rows, ref.records.length + ref.malformed.length, c.kind);
      assert.equal(tooLong.length, c.kind.includes('over 1 MiB') ? 1 : 0, c.kind);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);

// ---- Reading in two parts (src/data/csv-split.ts) -------------------------------------------

/**
 * readCsv of `data` in two parts split at the line start `at`: the first part read up to it and
 * checked to end at a record start, the second read from it on the line after the LFs before
 * it, their records and accounts put together. Undefined when the first part did not end at a
 * record start (stageCsv then reads the file in one part).
 */
async function readTwoParts(data: Buffer, at: number, maxRecordBytes?: number): Promise<(Read & { bytes: number }) | undefined> {
  let header: Rec | null = null;
  const records: Rec[] = [];
  const malformed: Read['malformed'] = [];
  const record = (rec: CsvRecord) => records.push({ line: rec.line, lines: rec.lines, fields: rec.texts() });
  const bad = (line: number, kind: string) => malformed.push({ line, kind });
  let first;
  try {
    first = await readCsv([data.subarray(0, at)], {
      maxRecordBytes,
      header: (rec) => (header = { line: rec.line, lines: rec.lines, fields: rec.texts() }),
      record,
      malformed: bad,
      endsAtSplit: () => true,
    });
  } catch (err) {
    if (err instanceof SplitMismatch) return undefined;
    throw err;
  }
  let line = 1;
  for (let i = data.indexOf(0x0a); i !== -1 && i < at; i = data.indexOf(0x0a, i + 1)) line++;
  const second = await readCsv([data.subarray(at)], {
    maxRecordBytes,
    resume: { line, fields: (header as Rec | null)!.fields.length },
    header: () => assert.fail('a header in the second part'),
    record,
    malformed: bad,
  });
  const keys = ['lines', 'header', 'blank', 'records', 'recordLines', 'malformed'] as const;
  const account = Object.fromEntries(keys.map((k) => [k, first[k] + second[k]])) as unknown as CsvLineAccount;
  return { header, records, malformed, account, bytes: first.bytes + second.bytes };
}

/** Every line start of a file but its first byte and its end: where a split may be tried. */
const lineStarts = (data: Buffer) => {
  const starts: number[] = [];
  for (let i = data.indexOf(0x0a); i !== -1 && i + 1 < data.length; i = data.indexOf(0x0a, i + 1)) starts.push(i + 1);
  return starts;
};

test('a file read in two parts at any line start where the first part ends at a record start agrees with the Python csv reference', async () => {
  const r = prng(SEED);
  const cases = Array.from({ length: FILES }, (_, i) => generate(r, i));
  const dir = await tempDir('baton-csv-split-');
  try {
    const { expected } = await referenceReads(dir, cases);
    const failures: string[] = [];
    let tried = 0;
    let split = 0;
    for (const [i, c] of cases.entries()) {
      for (const at of lineStarts(c.data)) {
        tried++;
        const two = await readTwoParts(c.data, at);
        if (!two) continue;
        split++;
        for (const part of ['header', 'records', 'malformed', 'account'] as const) {
          try {
            assert.deepStrictEqual(two[part], expected[i][part]);
          } catch (e) {
            failures.push(
              `file #${i} (${c.kind}) split at byte ${at}: ${part} differs\n${(e as Error).message}\ncontent: ${JSON.stringify(c.data.toString('latin1'))}`,
            );
          }
        }
      }
    }
    assert.equal(failures.length, 0, report(failures));
    // Most line starts are record starts; a quoted line break or a stray quote before one is not.
    assert.ok(split > 5000 && split < tried, `${split} of ${tried} line starts split`);
    testNote(`${split} of ${tried} line starts of ${cases.length} files read in two parts, each as the reference reads the file`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 300_000);

test('findSplit picks the first line start past a window without quotes, and there the two parts always agree with one read', async () => {
  const r = prng(SEED + 1);
  // The mixed files, and files with few quotes or none (plain lines, some damaged), where windows are common.
  const cases = [...Array.from({ length: FILES }, (_, i) => generate(r, i)), ...Array.from({ length: FILES / 2 }, () => generatePlain(r))];
  // A small limit, so that files of a few hundred bytes have windows: records longer than it are rejected in both reads alike.
  const max = 24;
  const window = windowBytes(max);
  const failures: string[] = [];
  let ruled = 0;
  let found = 0;
  for (const [i, c] of cases.entries()) {
    const one = await readTs(
      c.data,
      [c.data.length].filter((n) => n > 0),
      max,
    );
    if (!one.header || one.header.lines !== 1) continue;
    // The header's line ends at its line's LF: the header.line-th LF of the file.
    const lineEnds = lineStarts(Buffer.concat([c.data, b('x')]));
    const headerEnd = lineEnds[one.header.line - 1] ?? -1;
    const holds = (at: number) => headerEnd !== -1 && headerEnd <= at - window && c.data.subarray(at - window, at).indexOf(0x22) === -1;
    const starts = lineStarts(c.data);
    for (const at of starts.filter(holds)) {
      ruled++;
      const two = await readTwoParts(c.data, at, max);
      if (!two) failures.push(`file #${i} (${c.kind}): the first part does not end at a record start at ${at}, past a window without quotes`);
      else if (!isDeepStrictEqual({ ...two, bytes: 0 }, { ...one, bytes: 0 })) failures.push(`file #${i} (${c.kind}) split at ${at}: differs from one read`);
    }
    const from = Math.floor(c.data.length / 2);
    const read = async (buffer: Buffer, position: number) => c.data.copy(buffer, 0, position, Math.min(c.data.length, position + buffer.length));
    const point = await findSplit(read, c.data.length, { from, until: c.data.length, maxRecordBytes: max, headerLine: one.header.line }, 7);
    const first = starts.find((at) => at >= from && holds(at));
    if (point?.at !== first)
      failures.push(
        `file #${i} (${c.kind}): findSplit from ${from} gave ${JSON.stringify(point)}, the first line start past a window without quotes is ${first}`,
      );
    if (point) {
      found++;
      const lfs = c.data.subarray(0, point.at).toString('latin1').split('\n').length;
      if (point.line !== lfs) failures.push(`file #${i}: findSplit's line ${point.line}, the LFs before it make ${lfs}`);
    }
  }
  assert.equal(failures.length, 0, report(failures));
  assert.ok(ruled > 3000 && found > 300, `${ruled} line starts past a window, ${found} split points found`);
  testNote(`${ruled} line starts past a window without quotes, all read in two parts as in one; findSplit found ${found}`);
}, 300_000);
