/**
 * Security basics, checked over every tracked source file: no shell ever parses a command
 * line, SQL takes its values as bound parameters and its identifiers from a fixed list, and
 * the production dependencies have no high or critical advisory.
 */
import assert from '../support/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from '@jest/globals';
import ts from 'typescript';
import { repoRoot, testUnless } from '../support';

const tracked = (...patterns: string[]) =>
  execFileSync('git', ['ls-files', '--', ...patterns], { cwd: repoRoot, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
const self = path.relative(repoRoot, __filename);

test('no shell strings: child processes get argument arrays, never a command line a shell parses', () => {
  // Built from parts so that this file does not match itself.
  const forbidden: Array<[RegExp, string]> = [
    [new RegExp('(?<![.\\w])exec(Sync)?\\s*\\('), "child_process's exec (a shell command line)"],
    [new RegExp('shell' + '\\s*:\\s*true'), 'spawn/execFile with a shell'],
    [new RegExp('shell' + '\\s*=\\s*True'), 'subprocess with a shell'],
    [new RegExp('\\bos\\.' + 'system\\s*\\('), 'os.system'],
    [new RegExp('\\bos\\.' + 'popen\\s*\\('), 'os.popen'],
  ];
  const files = tracked('*.ts', '*.js', '*.mjs', '*.py').filter((f) => f !== self);
  assert.ok(files.length > 50, `only ${files.length} source files found`);
  const found: string[] = [];
  for (const file of files) {
    readFileSync(path.join(repoRoot, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const [pattern, what] of forbidden) if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});

/**
 * Every `${...}` inside SQL text, by file. Each is an identifier or a fixed piece, never a value
 * from input: values go in as $1, $2 (Postgres and DuckDB alike). A new one fails this test
 * until it is reviewed and listed here with its reason.
 */
const SQL_INTERPOLATIONS: Record<string, Record<string, string>> = {
  'workflows/dags/orders_daily_etl/key-rule.ts': {
    index: 'a fixed index name with the digits of a validated ds',
    seek: 'a fixed index name with the digits of a validated ds',
    ids: 'stagingTables(ds).keys, or a fixed temporary table name with the digits of a validated ds',
    hits: 'a fixed temporary table name with the digits of a validated ds',
    table: "extract's candidates table, stagingTables(ds).keys",
    't.clean': 'stagingTables(ds)',
    't.rejected': 'stagingTables(ds)',
    'KEEP.order': "ASC or DESC, from the contract's key rule",
    'KEEP.word': "first or last, from the contract's key rule",
  },
  'workflows/dags/orders_daily_etl/activities.ts': {
    't.raw': 'stagingTables(ds)',
    't.clean': 'stagingTables(ds)',
    't.rejected': 'stagingTables(ds)',
    't.legacyClean': 'stagingTables(ds)',
    't.keys': 'stagingTables(ds)',
  },
  'workflows/dags/orders_daily_etl/warehouse.ts': {
    table: "createDayTable's table: stagingTables(ds).clean, a fixed name with the digits of a validated ds",
    'parseDs(ds)': 'DDL takes no parameters: a validated YYYY-MM-DD date as a literal',
  },
  'src/data/csv-load.ts': {
    table: 'a table name its caller made (the rejects, or the key candidates): stagingTables(ds), or a loadCsv stage table',
    'options.goodTable.name': 'the day table name its caller made with stagingTables(ds)',
    'options.rejectsTable': 'the rejects table name its caller made with stagingTables(ds)',
    rejectsTable: 'a rejects table its caller made: stagingTables(ds), or a loadCsv stage table',
    columns: "the contract's column names, checked against ^[a-z_][a-z0-9_]{0,62}$ by validateContract first",
    REJECTS_COLUMNS: 'a constant column list',
    keyColumns: "the contract's key columns, names checked by validateContract",
  },
  'src/data/duckdb-session.ts': {
    'sqlString(root + path.sep)': 'SET takes no parameters: the data directory from config, quoted',
  },
  'workflows/dags/orders-etl/schema.ts': {
    PANDAS_NA: "pandas' constant list of missing values, each quoted",
    PLAIN_AMOUNT: 'a constant regular expression',
    source: "a query of the flow's own making (numberedCsvSql or read_parquet of a bound path)",
  },
  'workflows/dags/orders-etl/tasks.ts': {
    ROW_GROUP_SIZE: 'a numeric constant',
    'judgedSql(extracted)': "the flow's constant judging SQL around numberedCsvSql or read_parquet of a bound path",
    doubtful: 'the same, over the same kind of query (and a constant filter)',
  },
  'src/data/csv-file.ts': {
    projection: "fields f<integer> (positions checked as integers in range) as the caller's column names, quoted as identifiers",
    struct: 'fixed column names f<integer> with fixed types',
    maxLine: 'a number computed from the record limit',
    buffer: 'empty, or buffer_size with an integer',
  },
  'src/operators/load-csv/activity.ts': {
    't.target': "the task's table, checked against ^schema.table$ of lower-case identifiers (loadTables)",
    't.rejects': 'the target with _rejected, checked the same way',
    't.stage': 'staging.load_ and a random UUID in hex',
    't.stageRejects': 'the stage table with _rejected',
    't.stageKeys': 'the stage table with _keys',
    "candidates ? ` WHERE (${keys}) IN (SELECT ${keys} FROM ${t.stageKeys})` : ''": "a filter of the contract's key columns and the stage table with _keys",
    schema: 'the schema of a checked target, or staging',
    keys: "the contract's key columns, names checked by validateContract",
    order: "ASC or DESC, from the contract's key rule",
    columns: "the contract's column names, checked by validateContract",
    "columns.join(', ')": "the contract's column names, checked by validateContract",
    defs: 'contract column names with their types from postgresType (a fixed set)',
    "defs.join(', ')": 'contract column names with their types from postgresType (a fixed set)',
    "partition ? ' WHERE ds = $1' : ''": 'a constant filter, its ds bound',
    "partition ? 'ds date NOT NULL, ' : ''": 'a constant column',
  },
  'src/operators/duckdb/activity.ts': {
    query:
      "the DAG's own query (its author's code), its template values limited to [A-Za-z0-9_.:/+ -] by renderSqlText and its data paths resolved in the data directory",
    'sqlString(tmp)': 'COPY takes no parameters: a path of our own making beside the output, quoted',
  },
  'src/init.ts': {
    dagId: "the example DAG's id in the text of the DAG file baton init writes: [a-z0-9_] of the folder's name",
    table: 'examples.<that dag id>, in the same text',
  },
  'src/platform/postgres.ts': {
    password: 'the local role password: generated hex, checked before use',
    name: 'a database name, checked against ^[a-z_][a-z0-9_]*$',
  },
  'bench/scenarios/datapath-floors.ts': {
    RAW_TABLE: 'a constant table name',
    SCRIPT_TABLE: 'a constant table name',
    ds: "one of the scenario's fixed DAYS",
  },
  'bench/scenarios/datapath.ts': { 'stagingTables(ds).partition': "the partition of one of the scenario's fixed DAYS" },
  'bench/scenarios/flow.ts': { 'quote(csv)': 'the generated file path, quoted', 'quote(parquet)': 'the output path, quoted' },
};

test('SQL: values are bound parameters; the only interpolations are reviewed identifiers and constants', () => {
  const SQL = /\b(SELECT|INSERT|DELETE|CREATE|DROP|COPY|UPDATE|ALTER|GRANT|TRUNCATE|SET)\b/;
  const unlisted: string[] = [];
  const seen = new Set<string>();
  // A DAG file's SQL is fixed when the DAG is defined: what it interpolates is its author's text,
  // or a reference (`${ds}`, `${load.rows}`), which the SDK writes as a `{{ }}` placeholder that
  // sql and sqlSensor bind as a parameter and duckdb admits only as [A-Za-z0-9_.:/+ -]. A DAG's
  // own tasks (its activities module, and any module of its folder but dag.ts) run SQL with
  // values, and are checked like any activity.
  const isDagFile = (file: string) =>
    /^workflows\/dags\/[^/]+\/dag\.ts$/.test(file) || (/^workflows\/dags\/[^/]+\.ts$/.test(file) && !file.endsWith('.activities.ts'));
  for (const file of tracked('*.ts').filter((f) => !f.startsWith('test/') && !isDagFile(f))) {
    const source = ts.createSourceFile(file, readFileSync(path.join(repoRoot, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      if (ts.isTemplateExpression(node) && SQL.test(node.head.text + node.templateSpans.map((s) => s.literal.text).join(''))) {
        for (const span of node.templateSpans) {
          const expression = span.expression.getText(source);
          seen.add(`${file}|${expression}`);
          if (!SQL_INTERPOLATIONS[file]?.[expression])
            unlisted.push(`${file}:${source.getLineAndCharacterOfPosition(span.getStart(source)).line + 1}: \${${expression}}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.deepEqual(unlisted, [], 'bind the value as a parameter, or review the identifier and list it');
  const stale = Object.entries(SQL_INTERPOLATIONS).flatMap(([file, entries]) =>
    Object.keys(entries)
      .filter((e) => !seen.has(`${file}|${e}`))
      .map((e) => `${file}: ${e}`),
  );
  assert.deepEqual(stale, [], 'listed interpolations that no longer exist');
});

/**
 * The registry's advisories for the production dependencies, asked before the file runs (Jest
 * decides its skips up front). A registry mirror without the advisory endpoint (405) cannot
 * answer; that is a skip that says so, not a pass.
 */
const audit = (() => {
  const { stdout, stderr } = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  const report = JSON.parse(stdout || '{}') as { metadata?: { vulnerabilities?: Record<string, number> }; message?: string; error?: { summary?: string } };
  const unanswered = report.metadata?.vulnerabilities
    ? undefined
    : `the registry gave no advisories: ${report.message ?? report.error?.summary ?? stderr.trim().split('\n')[0]}`;
  return { stdout, vulnerabilities: report.metadata?.vulnerabilities ?? {}, unanswered };
})();

testUnless(audit.unanswered)('npm audit --omit=dev: no high or critical advisory in the production dependencies', () => {
  const { high = 0, critical = 0 } = audit.vulnerabilities;
  assert.deepEqual({ high, critical }, { high: 0, critical: 0 }, audit.stdout);
});
