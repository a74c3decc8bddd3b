/**
 * Baton's public API: what `baton/sdk` (DAG files), `baton/task` (a DAG's own tasks) and
 * `baton/testing` export, name by name, so an export that appears or goes is a decision of its
 * own; and the SDK's boundary: the DAG and task entries reach nothing of the engine, the
 * activities, the CLI, the worker or an example DAG, not even a type.
 */
import assert from '../support/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from '@jest/globals';
import ts from 'typescript';
import { repoRoot } from '../support';

const ENTRIES = { sdk: 'src/sdk/index.ts', task: 'src/task/index.ts', testing: 'src/testing/index.ts' } as const;

/** One program over the three entries: tsc reads their shared modules once. */
let program: ts.Program | undefined;

/** Every export name of an entry (values and types), as tsc sees them. */
function exportsOf(entry: string): string[] {
  const file = path.join(repoRoot, entry);
  program ??= ts.createProgram(
    Object.values(ENTRIES).map((e) => path.join(repoRoot, e)),
    { strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, types: [] },
  );
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  return checker
    .getExportsOfModule(checker.getSymbolAtLocation(source)!)
    .map((s) => s.name)
    .sort();
}

/** The files of the project an entry reaches through its imports (type imports too), each with the chain that reached it. */
function reach(entry: string): Map<string, string[]> {
  const found = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(repoRoot, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package: zod, @temporalio/common, pg's types
      const base = path.join(path.dirname(file), fileName);
      const next = [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => existsSync(path.join(repoRoot, f)) && f.endsWith('.ts'));
      if (!next) throw new Error(`${file} imports ${fileName}, which is not a file of the project`);
      if (found.has(next)) continue;
      found.set(next, [...found.get(file)!, next]);
      queue.push(next);
    }
  }
  return found;
}

/**
 * What the DAG and task entries may reach: the SDK's own modules, the operators' pure parts
 * (src/operators/<name>/definition.ts and the table of them) and the pure modules they build on.
 */
const ALLOWED = [
  /^src\/sdk\//,
  /^src\/task\//,
  /^src\/(column-contract|logical-date|mapping|timetable|zoned-time)\.ts$/,
  /^src\/operators\/(definitions|common)\.ts$/,
  /^src\/operators\/[a-z-]+\/definition\.ts$/,
];
/** The task entry also reaches the data path (src/data/: files, CSV under a contract, COPY, DuckDB) and the shared pure contracts. */
const TASK_ALLOWED = [...ALLOWED, /^src\/data\//, /^src\/(contracts|constants|cache-contracts|scheduling-contracts)\.ts$/];

test.each([
  [ENTRIES.sdk, ALLOWED],
  [ENTRIES.task, TASK_ALLOWED],
])("%s reaches nothing of Baton's engine, activities, CLI, worker or example DAGs", (entry, allowed) => {
  const outside = [...reach(entry)].filter(([file]) => !allowed.some((a) => a.test(file))).map(([, chain]) => chain.join(' -> '));
  assert.deepEqual(outside, []);
});

test('the boundary check sees a reach into the engine', () => {
  // The engine reaches the SDK, its activities' types and the DAG registry: the walk must see that.
  const files = [...reach('workflows/engine.ts').keys()];
  assert.ok(files.includes('workflows/operator-steps.ts'), files.join(', '));
  assert.ok(files.includes('activities/index.ts'), files.join(', '));
  assert.ok(!ALLOWED.some((a) => a.test('workflows/engine.ts')));
});

test("an operator's definition is inside the SDK's boundary, its workflow step and its activity outside", () => {
  assert.ok(ALLOWED.some((a) => a.test('src/operators/sql/definition.ts')));
  for (const file of ['src/operators/sql/step.ts', 'src/operators/sql/activity.ts', 'src/operators/steps.ts', 'src/operators/activities.ts']) {
    assert.ok(!ALLOWED.some((a) => a.test(file)), file);
  }
});

test('baton/sdk exports what a DAG file is written with, and nothing else', () => {
  assert.deepEqual(exportsOf(ENTRIES.sdk), [
    'ApprovalChoiceOutput',
    'ApprovalEntryOutput',
    'ApprovalOutput',
    'AssetCondition',
    'AssetSchedule',
    'BranchOutput',
    'ColumnContract',
    'ColumnSpec',
    'CommandOutput',
    'DagFileDefinition',
    'DagResult',
    'DagScope',
    'DagSettings',
    'DbtOutput',
    'Deadline',
    'DefaultArgs',
    'DuckdbOutput',
    'EmptyOutput',
    'Group',
    'GroupSettings',
    'HttpOutput',
    'InputValues',
    'Inputs',
    'LoadCsvOutput',
    'Notifier',
    'NotifierEvent',
    'NotifyOutput',
    'OwnTaskBuilder',
    'OwnTaskSettings',
    'OwnTasks',
    'Ref',
    'Refable',
    'Run',
    'SensorOutput',
    'ShortCircuitOutput',
    'SqlRowCountOutput',
    'TRIGGER_RULES',
    'TaskCacheSettings',
    'TaskCallback',
    'TaskContext',
    'TaskFunction',
    'TaskOf',
    'TaskOptions',
    'TaskRecord',
    'TaskSettings',
    'TaskState',
    'TriggerDagOutput',
    'TriggerRule',
    'ValueOf',
    'WaitForDagOutput',
    'approval',
    'branch',
    'command',
    'dag',
    'dbt',
    'duckdb',
    'empty',
    'fileSensor',
    'firstOf',
    'group',
    'http',
    'loadCsv',
    'notify',
    'optional',
    'ownTasks',
    'result',
    'shortCircuit',
    'sql',
    'sqlSensor',
    'triggerDag',
    'waitForDag',
    'z',
  ]);
});

test("baton/task exports what a DAG's own task is written with", () => {
  assert.deepEqual(exportsOf(ENTRIES.task), [
    'DEFAULT_MAX_RECORD_BYTES',
    'DUCKDB_LIMITS',
    'DbtOutcome',
    'DuckdbLimits',
    'DuckdbSession',
    'NumberedFile',
    'NumberedLayout',
    'OpenedFile',
    'Progress',
    'StageCsvOptions',
    'StagedCsv',
    'TaskContext',
    'failTask',
    'inTransaction',
    'isStatementError',
    'mostCommonRejects',
    'numberedCsvSql',
    'openDataFile',
    'parseDs',
    'sha256File',
    'sqlString',
    'stageCsv',
    'stagedFiles',
    'tracked',
    'waitUntilSettled',
    'whileHeartbeating',
    'withClient',
    'withDuckdb',
    'writeNumberedCsv',
  ]);
});

test("baton/testing exports what a project's own tests use", () => {
  assert.deepEqual(exportsOf(ENTRIES.testing), [
    'DagFileError',
    'DagTestOptions',
    'DagTestResult',
    'FakeTask',
    'checkDagFile',
    'replayHistories',
    'runDagTest',
  ]);
});
