/**
 * The worker as it runs outside tests: its TypeScript compiled ahead of time into one file
 * (esbuild; packages stay imports, found through NODE_PATH) and the workflows bundled once,
 * instead of compiled at start under tsx. With DuckDB loaded on first use, the worker holds
 * about 60 MB less at rest (bench/README.md).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { build } from 'esbuild';
import { projectRoot } from './config';
import { workflowBundlerOptions, workflowsEntry } from './worker';

/**
 * How a compiled entry runs: `node ...COMPILED_NODE_FLAGS <entry> ...`: stack traces through its
 * source map, and V8's young generation held to 8 MB a semi-space (from 16). A worker streaming a
 * CSV allocates fast enough to grow it to its limit and keeps what it grew: at 8 MB it scavenges
 * more often, at no cost measured in extract's time, and the bench's worker rests at 220 MB
 * (from 232) and peaks about 10 MB lower (bench/README.md, scenario 4).
 */
export const COMPILED_NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=8'];

export interface WorkerBuild {
  /** node ...COMPILED_NODE_FLAGS <entry> [--workflow-bundle <file>] */
  entry: string;
  workflowBundle: string;
  /** The environment the compiled entry needs: NODE_PATH to the project's node_modules. */
  env: NodeJS.ProcessEnv;
}

/** Compiles `entry` (a script of this project) into `<outDir>/<name>.js`, with a source map. */
export async function compileEntry(entry: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, `${path.basename(entry, '.ts')}.js`);
  await build({
    entryPoints: [path.resolve(projectRoot, entry)],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    define: { BATON_COMPILED_FROM: JSON.stringify(projectRoot) },
    // Baton's own entries are its source, compiled in (installed, Baton is under node_modules,
    // where esbuild reads no tsconfig paths and would leave `baton/sdk` to a plain require).
    alias: {
      'baton/sdk': path.join(projectRoot, 'src', 'sdk', 'index.ts'),
      'baton/task': path.join(projectRoot, 'src', 'task', 'index.ts'),
      'baton/testing': path.join(projectRoot, 'src', 'testing', 'index.ts'),
    },
    logLevel: 'error',
  });
  return outfile;
}

/** Bundles `workflows/` for the worker's workflow sandbox into `file`. */
export async function bundleWorkflows(file: string, from = workflowsEntry()): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: from, ...workflowBundlerOptions, logger: new DefaultLogger('WARN') });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, code);
  return file;
}

/** The worker (scripts/worker.ts) and its workflow bundle, built into `<home>/build` (or `outDir`). */
export async function buildWorker(home: string, outDir = path.join(home, 'build')): Promise<WorkerBuild> {
  const [entry, workflowBundle] = await Promise.all([compileEntry('scripts/worker.ts', outDir), bundleWorkflows(path.join(outDir, 'workflows.js'))]);
  return { entry, workflowBundle, env: compiledEnv() };
}

export function compiledEnv(): NodeJS.ProcessEnv {
  return { NODE_PATH: path.join(projectRoot, 'node_modules') };
}
