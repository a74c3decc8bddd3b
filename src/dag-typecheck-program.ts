/**
 * tsc's part of the DAG files' type check (src/dag-typecheck.ts): the program over the DAG files
 * and their activities modules, each error named with the task that holds it, and each task's
 * output fields as tsc reads them. Loaded only where the check runs: a worker runs it in a child
 * process, so that neither TypeScript nor its program stays in the worker's memory.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import ts from 'typescript';
import { projectRoot } from './config';
import type { DagFile } from './dag-files';
import type { DagFileTypes } from './dag-typecheck';

/** What one check found, and what it read. */
export interface DagTypesCheck {
  results: Record<string, DagFileTypes>;
  /** sha256 of every project file the check read (the tsconfig files included), by path. */
  inputs: Record<string, string>;
  /** A module did not resolve: it may be there next time without any file the check read changing. */
  unresolved: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The options of the project the DAG folder belongs to (its tsconfig.json), or strict NodeNext
 * ones; `baton/*` is always this Baton's own SDK, the one that will compile and run the DAGs.
 * The config files it reads go into `read`, by path.
 */
function compilerOptions(projectDir: string, read: Map<string, string>): ts.CompilerOptions {
  const sdk = { 'baton/sdk': [path.join(projectRoot, 'src', 'sdk', 'index.ts')], 'baton/task': [path.join(projectRoot, 'src', 'task', 'index.ts')] };
  const file = ts.findConfigFile(projectDir, ts.sys.fileExists);
  if (file && path.dirname(file).startsWith(projectDir)) {
    const source = ts.readJsonConfigFile(file, ts.sys.readFile);
    const parsed = ts.parseJsonSourceFileConfigFileContent(source, ts.sys, path.dirname(file), undefined, file);
    // The tsconfig and every file it extends decide the check as much as the sources do.
    for (const config of [file, ...(source.extendedSourceFiles ?? [])]) read.set(config, ts.sys.readFile(config) ?? '');
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

/** Type-checks the DAG files (and their activities modules). */
export function checkDagTypes(files: readonly DagFile[], projectDir: string): DagTypesCheck {
  const configFiles = new Map<string, string>();
  const options = compilerOptions(projectDir, configFiles);
  const roots = files.flatMap((f) => [f.file, ...(f.activities ? [f.activities] : [])]);
  const program = ts.createProgram(roots, options);
  const checker = program.getTypeChecker();
  const results: Record<string, DagFileTypes> = {};
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
    results[entry.file] = { problems, outputs: taskOutputs(source, checker) };
    unresolved ||= problems.some((p) => /Cannot find module/.test(p));
  }
  const inputs = Object.fromEntries([
    ...[...configFiles].map(([file, text]) => [file, sha256(text)]),
    ...program
      .getSourceFiles()
      .filter((sf) => !sf.fileName.includes(`${path.sep}node_modules${path.sep}`) && !sf.fileName.includes('/node_modules/'))
      .map((sf) => [sf.fileName, sha256(sf.text)]),
  ]);
  return { results, inputs, unresolved };
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
