/**
 * tsc over the DAG files of a folder, before any of them runs: every type error of a DAG file
 * (a field its upstream does not output, a task that is not there, an arg of the wrong type)
 * named with its DAG and task, and the output fields of each task as tsc reads them from the
 * operator's output type or the own task's function, for the checks of template strings that
 * tsc cannot read (`{{ xcom.fiscal_day.yeer }}`). The result is cached by the content of every
 * project file the check read, so a worker or a CLI command checks a folder once per change.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { projectRoot } from './config';
import type { DagFile } from './dag-files';

/** What the check found in one DAG file. */
export interface DagFileTypes {
  /** tsc's errors in the file or its activities module, each naming the task it is in. */
  problems: string[];
  /** Each task's output fields (`*`: any field may be there), by task id. */
  outputs: Record<string, readonly string[] | '*'>;
}

interface CacheEntry {
  version: number;
  /** sha256 of every project file the check read, by path. */
  inputs: Record<string, string>;
  results: Record<string, DagFileTypes>;
}

/** Bumped when what the check reports changes, so no cached report outlives it. */
const CACHE_VERSION = 3;

/**
 * The options of the project the DAG folder belongs to (its tsconfig.json), or strict NodeNext
 * ones; `baton/*` is always this Baton's own SDK, the one that will compile and run the DAGs.
 */
function compilerOptions(projectDir: string): ts.CompilerOptions {
  const sdk = { 'baton/sdk': [path.join(projectRoot, 'src', 'sdk', 'index.ts')], 'baton/task': [path.join(projectRoot, 'src', 'task', 'index.ts')] };
  const file = ts.findConfigFile(projectDir, ts.sys.fileExists);
  if (file && path.dirname(file).startsWith(projectDir)) {
    const { config } = ts.readConfigFile(file, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(file), undefined, file);
    return { ...parsed.options, noEmit: true, paths: { ...parsed.options.paths, ...sdk } };
  }
  return {
    paths: sdk,
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
  };
}

let version: string | undefined;
const batonVersion = () => (version ??= (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Type-checks the DAG files (and their activities modules); cached under `cacheDir` when given. */
export function typecheckDags(files: readonly DagFile[], projectDir: string, cacheDir?: string): Map<string, DagFileTypes> {
  const options = compilerOptions(projectDir);
  // The same files under other options (another tsconfig, another Baton) are another check.
  const key = sha256([...files.map((f) => f.file), JSON.stringify(options), batonVersion()].join('\n')).slice(0, 16);
  const cacheFile = cacheDir && path.join(cacheDir, `${key}.json`);
  const cached = cacheFile ? readCache(cacheFile) : undefined;
  if (cached) return new Map(Object.entries(cached.results));
  const roots = files.flatMap((f) => [f.file, ...(f.activities ? [f.activities] : [])]);
  const program = ts.createProgram(roots, options);
  const checker = program.getTypeChecker();
  const results = new Map<string, DagFileTypes>();
  let unresolved = false;
  for (const entry of files) {
    const source = program.getSourceFile(entry.file);
    if (!source) continue;
    const problems = [entry.file, ...(entry.activities ? [entry.activities] : [])].flatMap((file) => {
      const sf = program.getSourceFile(file);
      if (!sf) return [];
      return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
        .filter((d) => d.category === ts.DiagnosticCategory.Error)
        .map((d) => describe(d, sf, checker, file === entry.file ? undefined : path.basename(file)));
    });
    results.set(entry.file, { problems, outputs: taskOutputs(source, checker) });
    unresolved ||= problems.some((p) => /Cannot find module/.test(p));
  }
  // A module not found may be there next time without any file the check read changing.
  if (cacheFile && !unresolved) {
    const inputs = Object.fromEntries(
      program
        .getSourceFiles()
        .filter((sf) => !sf.fileName.includes(`${path.sep}node_modules${path.sep}`) && !sf.fileName.includes('/node_modules/'))
        .map((sf) => [sf.fileName, sha256(sf.text)]),
    );
    writeCache(cacheFile, { version: CACHE_VERSION, inputs, results: Object.fromEntries(results) });
  }
  return results;
}

function readCache(file: string): CacheEntry | undefined {
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
    if (entry.version !== CACHE_VERSION) return undefined;
    for (const [input, hash] of Object.entries(entry.inputs)) {
      if (!existsSync(input) || sha256(readFileSync(input, 'utf8')) !== hash) return undefined;
    }
    return entry;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, entry: CacheEntry): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entry));
  renameSync(tmp, file);
}

/** A diagnostic as a problem of the DAG: the task (or group) whose declaration holds it, tsc's message, the line. */
function describe(d: ts.Diagnostic, source: ts.SourceFile, checker: ts.TypeChecker, otherFile?: string): string {
  // A reference's type reads as what it is: Ref<number>, not its symbol-keyed shape.
  const message = ts
    .flattenDiagnosticMessageText(d.messageText, ' ')
    .replace(/\{ readonly \[VALUE\]: ([^;{}]+); \}/g, 'Ref<$1>')
    .replace(/\s+/g, ' ');
  const line = d.start === undefined ? undefined : source.getLineAndCharacterOfPosition(d.start).line + 1;
  const at = otherFile ? `${otherFile}${line ? `:${line}` : ''}` : line ? `line ${line}` : '';
  const holder = d.start === undefined || otherFile ? undefined : declarationAt(source, checker, d.start);
  return `${holder ? `${holder}: ` : ''}${message}${at ? ` (${at})` : ''}`;
}

/** Whether a call is `group(...)`: what it returns carries the group's mark. */
const isGroupCall = (node: ts.Node, checker: ts.TypeChecker) =>
  checker
    .getTypeAtLocation(node)
    .getProperties()
    .some((p) => p.getName().startsWith('__@GROUP'));

/**
 * The operator call (`sql('report', {...})`, `own.fiscalDay('fiscal_day', ...)`) or group that
 * holds a position, as `task <id>` or `group <id>`, its id under the groups around it.
 */
function declarationAt(source: ts.SourceFile, checker: ts.TypeChecker, position: number): string | undefined {
  let found: string | undefined;
  const visit = (node: ts.Node, groups: string[]): void => {
    if (position < node.getStart(source) || position >= node.getEnd()) return;
    const id = taskIdOfCall(node);
    let inner = groups;
    if (id) {
      const group = isGroupCall(node, checker);
      found = `${group ? 'group' : 'task'} ${[...groups, id].join('.')}`;
      if (group) inner = [...groups, id];
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(source, []);
  return found;
}

function taskIdOfCall(node: ts.Node): string | undefined {
  if (!ts.isCallExpression(node)) return undefined;
  const [first] = node.arguments;
  if (!first || !(ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) return undefined;
  return ts.isIdentifier(node.expression) || ts.isPropertyAccessExpression(node.expression) ? first.text : undefined;
}

/**
 * Each operator call's output fields, read from the type of what it returns (a TaskOf<Output>),
 * by its task id: a call inside `group('load', () => ...)` declares `load.<id>`.
 */
function taskOutputs(source: ts.SourceFile, checker: ts.TypeChecker): Record<string, readonly string[] | '*'> {
  const outputs: Record<string, readonly string[] | '*'> = {};
  const visit = (node: ts.Node, groups: string[]): void => {
    const id = taskIdOfCall(node);
    let inner = groups;
    if (id) {
      const type = checker.getTypeAtLocation(node);
      const props = checker.getPropertiesOfType(type).map((p) => p.getName());
      // A task's reference carries its type under symbol keys (`__@VALUE@12`), its output's fields under their names.
      if (props.some((p) => p.startsWith('__@TASK'))) {
        outputs[[...groups, id].join('.')] = checker.getIndexInfosOfType(type).length ? '*' : props.filter((p) => !p.startsWith('__@')).sort();
      } else if (props.some((p) => p.startsWith('__@GROUP'))) inner = [...groups, id];
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(source, []);
  return outputs;
}
