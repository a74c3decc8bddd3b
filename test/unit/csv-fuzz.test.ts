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
import { test } from '@jest/globals';
import { readCsv, type CsvLineAccount } from '../../src/data/csv';
import { prng } from '../../scripts/sample-orders';
import { execFileAsync, tempDir, testNote } from '../support';

const FILES = 400;
const SEED = 20240115;
const REFERENCE = path.join(__dirname, '..', 'fixtures', 'reference_csv.py');

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

async function readTs(data: Buffer, sizes: number[]): Promise<Read & { bytes: number }> {
  let header: Rec | null = null;
  const records: Rec[] = [];
  const malformed: Read['malformed'] = [];
  const result = await readCsv(chunks(data, sizes), {
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

/**
 * Writes the files, runs the reference once over all of them, reads each with readCsv in one
 * chunk and in random chunks, and returns every disagreement (with the file's content, so that
 * it can be replayed) and what the reference found.
 */
async function compare(cases: Case[], r: Random): Promise<{ failures: string[]; records: number; byKind: Record<string, number> }> {
  const dir = await tempDir('baton-csv-fuzz-');
  try {
    const files = cases.map((_, i) => path.join(dir, `f${String(i).padStart(4, '0')}.csv`));
    await Promise.all(cases.map((c, i) => writeFile(files[i], c.data)));
    const { stdout } = await execFileAsync('python3', [REFERENCE, ...files], { maxBuffer: 256 << 20, timeout: 60_000 });
    const expected = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Read);
    assert.equal(expected.length, cases.length, 'one reference result per file');

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
