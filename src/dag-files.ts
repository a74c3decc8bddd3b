/**
 * The DAG files under workflows/dags/: `<dag>.ts`, or `<dag>/dag.ts` for a DAG with SQL,
 * models or activities of its own. Each default-exports `dag({...})`. A DAG's own activities
 * (the `task` operator) are the functions `<dag>.activities.ts` or `<dag>/activities.ts` exports.
 * The worker, the schedule sync, the CLI and the replay tier all find DAGs here: there is no
 * list to edit. Files are loaded with tsx, so a compiled worker reads them from source too.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { register as registerTsxHook } from 'tsx/cjs/api';
import type { WorkerClients } from '../activities/operators/contracts';
import { ownTaskActivity, type OwnTaskFunction, type UserTaskInput } from './operators/task/activity';
import { loadProject, projectRoot } from './config';
import { typecheckDags, type DagFileTypes } from './dag-typecheck';
import { validateDag } from './dag-validation';
import { compileDag, InvalidDagFile, userActivityType, type CompiledDag } from './sdk/compile';
import type { DagFileDefinition } from './sdk/types';

/** The DAGs folder of the project Baton works on (baton.config.json's `dags`, BATON_DAGS_DIR). */
export const defaultDagsDir = (): string => loadProject().dagsDir;

/**
 * Loads a TypeScript module: with the loader already there (tsx running the CLI, Jest's
 * transform), as any module; in the compiled worker (plain node), through tsx's scoped require.
 */
function loadTypeScript(file: string): unknown {
  // tsx registers '.ts'; Jest's require has no extensions at all (not even '.js').
  const extensions = require.extensions ?? {};
  const native = '.ts' in extensions || !('.js' in extensions);
  // Plain node (the compiled worker): tsx's require hook, registered once. Its scoped require
  // loses its hook between DAG files that share modules (the second file is read as ESM).
  if (!native) registerTsx();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}

let tsxRegistered = false;
function registerTsx(): void {
  if (tsxRegistered) return;
  registerTsxHook();
  tsxRegistered = true;
}

/** A module that does not load, as a problem: the first line of its error. */
const doesNotLoad = (err: unknown) => `it does not load: ${(err as Error).message.split('\n')[0]}`;

export interface DagFile {
  /** The DAG's file, absolute. */
  file: string;
  /** Its folder: where its `{ file }` SQL, dbt project and activities are found. */
  folder: string;
  /** Its activities module, when it has one. */
  activities?: string;
}

/** Every DAG file, by path (the order the bundle and the CLI list them in). */
export function dagFiles(dir = defaultDagsDir()): DagFile[] {
  if (!existsSync(dir)) return [];
  const found: DagFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      const file = path.join(full, 'dag.ts');
      if (!existsSync(file)) continue;
      const activities = path.join(full, 'activities.ts');
      found.push({ file, folder: full, ...(existsSync(activities) ? { activities } : {}) });
    } else if (name.endsWith('.ts') && !name.endsWith('.activities.ts') && !name.endsWith('.d.ts')) {
      const activities = path.join(dir, `${name.slice(0, -3)}.activities.ts`);
      found.push({ file: full, folder: path.join(dir, name.slice(0, -3)), ...(existsSync(activities) ? { activities } : {}) });
    }
  }
  return found;
}

export interface LoadedDag extends DagFile {
  dag: CompiledDag;
}

/** A DAG file that does not load or compile: its path and what is wrong. */
export class DagFileError extends Error {
  override name = 'DagFileError';
  constructor(
    readonly file: string,
    readonly dagId: string | undefined,
    readonly problems: string[],
  ) {
    super(`${path.relative(process.cwd(), file)}${dagId ? ` (DAG ${JSON.stringify(dagId)})` : ''}: ${problems.join('; ')}`);
  }
}

/**
 * Loads and compiles one DAG file; throws DagFileError naming the file, the DAG and every problem:
 * tsc's (`types`, from typecheckDags) and compile's, the fields of its tasks' outputs as tsc read them.
 */
export function loadDagFile(entry: DagFile, types?: DagFileTypes): LoadedDag {
  const typeProblems = types?.problems ?? [];
  let definition: DagFileDefinition | undefined;
  try {
    const mod = loadTypeScript(entry.file) as { default?: DagFileDefinition };
    definition = mod.default;
  } catch (err) {
    throw new DagFileError(entry.file, undefined, [doesNotLoad(err), ...typeProblems]);
  }
  if (!definition || typeof definition !== 'object')
    throw new DagFileError(entry.file, undefined, ['it has no default export: end it with `export default dag({...}, () => { ... })`', ...typeProblems]);
  try {
    const dag = compileDag(definition, { ownOutputs: types?.outputs });
    if (typeProblems.length) throw new InvalidDagFile(dag.dagId, []);
    return { ...entry, dag };
  } catch (err) {
    if (err instanceof InvalidDagFile) throw new DagFileError(entry.file, err.dagId, [...typeProblems, ...err.problems]);
    throw err;
  }
}

export interface LoadOptions {
  /** Run tsc over the files first (its errors are the DAGs' problems; its output types check templates): yes by default. */
  typecheck?: boolean;
  /** Run tsc in a child process (for a process that goes on running: a worker), so that its memory goes with it. */
  isolateTypecheck?: boolean;
}

/** tsc's findings for each DAG file of `dir`, cached under the project's .baton/typecheck/. */
export function typesOf(files: readonly DagFile[], dir: string, options: LoadOptions = {}): Map<string, DagFileTypes> {
  if (options.typecheck === false || !files.length) return new Map();
  const projectDir = projectDirOf(dir);
  return typecheckDags(files, projectDir, path.join(projectDir, '.baton', 'typecheck'), { isolate: options.isolateTypecheck });
}

/** The project a DAGs folder belongs to: the nearest folder above it with a package.json. */
export function projectDirOf(dir: string): string {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (existsSync(path.join(at, 'package.json'))) return at;
    if (path.dirname(at) === at) return path.resolve(dir);
  }
}

/** Every DAG under the folder, type-checked and compiled; the first broken file throws. Two files with one dag_id are refused. */
export function loadDags(dir = defaultDagsDir(), options: LoadOptions = {}): LoadedDag[] {
  const files = dagFiles(dir);
  const types = typesOf(files, dir, options);
  const loaded = files.map((f) => loadDagFile(f, types.get(f.file)));
  const seen = new Map<string, string>();
  for (const { dag, file } of loaded) {
    const other = seen.get(dag.dagId) ?? seen.get(`type:${dag.workflowType}`);
    if (other) throw new DagFileError(file, dag.dagId, [`its dag_id or workflow type is also ${path.relative(projectRoot, other)}'s`]);
    seen.set(dag.dagId, file);
    seen.set(`type:${dag.workflowType}`, file);
  }
  return loaded;
}

/**
 * The DAG files of the folder that validate (type-checked, compiled, their own tasks there), and
 * a DagFileError for each that does not: a broken file is named while the others go on being
 * served and triggered, as Airflow's DAG processor does. With `fresh`, no module is taken from
 * Node's cache (a file changed since it was first loaded).
 */
export function loadValidDags(dir = defaultDagsDir(), options: LoadOptions & { fresh?: boolean } = {}): { dags: LoadedDag[]; broken: DagFileError[] } {
  const project = projectDirOf(dir);
  if (options.fresh)
    for (const file of Object.keys(require.cache))
      if (file.startsWith(project + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[file];
  const files = dagFiles(dir);
  const types = typesOf(files, dir, options);
  const dags: LoadedDag[] = [];
  const broken: DagFileError[] = [];
  const seen = new Map<string, string>();
  for (const entry of files) {
    try {
      const loaded = loadDagFile(entry, types.get(entry.file));
      loadUserActivities(loaded);
      try {
        validateDag(loaded.dag.definition); // its cron, timezone and dates
      } catch (err) {
        throw new DagFileError(entry.file, loaded.dag.dagId, [(err as Error).message]);
      }
      const other = seen.get(loaded.dag.dagId) ?? seen.get(`type:${loaded.dag.workflowType}`);
      if (other) throw new DagFileError(entry.file, loaded.dag.dagId, [`its dag_id or workflow type is also ${path.relative(process.cwd(), other)}'s`]);
      seen.set(loaded.dag.dagId, entry.file).set(`type:${loaded.dag.workflowType}`, entry.file);
      dags.push(loaded);
    } catch (err) {
      if (!(err instanceof DagFileError)) throw err;
      broken.push(err);
    }
  }
  return { dags, broken };
}

/**
 * The functions a DAG's activities module exports, under their activity types (`<dag_id>.<name>`),
 * each refusing an output too large for XCom before it reaches the history. Every `task` of the
 * DAG must name one of them.
 */
export function loadUserActivities(entry: LoadedDag, clients?: WorkerClients): Record<string, (input: UserTaskInput) => Promise<unknown>> {
  let mod: Record<string, unknown> = {};
  if (entry.activities) {
    try {
      mod = loadTypeScript(entry.activities) as Record<string, unknown>;
    } catch (err) {
      throw new DagFileError(entry.activities, entry.dag.dagId, [doesNotLoad(err)]);
    }
  }
  const exported = Object.entries(mod).filter((e): e is [string, OwnTaskFunction] => typeof e[1] === 'function' && e[0] !== 'default');
  const names = exported.map(([name]) => name);
  const missing = entry.dag.tasks.flatMap((t) => {
    const wanted = [
      t.definition.operator === 'task' ? t.definition.activity : undefined,
      ...[t.definition.onFailure, t.definition.onRetry, t.definition.onSuccess].map((c) => (c && 'task' in c ? c.task : undefined)),
    ];
    return wanted
      .filter((name): name is string => !!name && !names.includes(name))
      .map(
        (name) =>
          `task ${t.taskId}: ${name} is not a function exported by ${entry.activities ? path.relative(projectRoot, entry.activities) : `${path.relative(projectRoot, entry.file).replace(/\.ts$/, '')}.activities.ts (there is none)`}`,
      );
  });
  if (missing.length) throw new DagFileError(entry.file, entry.dag.dagId, missing);
  return Object.fromEntries(exported.map(([name, fn]) => [userActivityType(entry.dag.dagId, name), ownTaskActivity(name, fn, clients, entry.folder)]));
}

/**
 * The workflow bundle's entry: Baton's workflows, every DAG file registered, and the default
 * workflow that runs a DAG by its type. Written under .baton/generated/ (atomically: builds run
 * side by side) from the files there now, so a new DAG file needs no list edited.
 */
export function writeWorkflowsEntry(dir = defaultDagsDir(), outDir = path.join(projectDirOf(dir), '.baton', 'generated'), only?: readonly DagFile[]): string {
  mkdirSync(outDir, { recursive: true });
  const rel = (file: string) => {
    const r = path.relative(outDir, file).split(path.sep).join('/');
    return JSON.stringify(r.startsWith('.') ? r : `./${r}`);
  };
  const files = only ?? dagFiles(dir);
  const lines = [
    '// Generated by Baton (src/dag-files.ts) from workflows/dags/ each time workflows are bundled: do not edit.',
    `export * from ${rel(path.join(projectRoot, 'workflows', 'index'))};`,
    `import { registerDagFiles } from ${rel(path.join(projectRoot, 'workflows', 'dag-registry'))};`,
    ...files.map((f, i) => `import dag${i} from ${rel(f.file.replace(/\.ts$/, ''))};`),
    `registerDagFiles([${files.map((_, i) => `dag${i}`).join(', ')}]);`,
    `export { dagFileWorkflow as default } from ${rel(path.join(projectRoot, 'workflows', 'dag-registry'))};`,
    '',
  ];
  const entry = path.join(outDir, 'workflows.ts');
  const text = lines.join('\n');
  if (existsSync(entry) && readFileSync(entry, 'utf8') === text) return entry; // as it is: nothing to write
  const tmp = `${entry}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, entry);
  return entry;
}
