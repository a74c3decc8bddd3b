// Lint for the whole project, plus the determinism guard on workflows/: workflow code is
// replayed, so it must not import Node built-ins, I/O clients, loggers or activity values.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** The modules of src/ that workflow code may import: names, types and pure functions, no I/O. */
const PURE_SRC = [
  'approvals',
  'clear',
  'column-contract',
  'constants',
  'contracts',
  'cron',
  'dags',
  'deadlines',
  'errors',
  'logical-date',
  'mapping',
  'orders-pipeline-contracts',
  'pools',
  'run-memo',
  'scheduling-contracts',
  'templates',
  'temporal-calendars',
  'timetable',
  'zoned-time',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.baton/**', 'data/**', 'dist/**', 'dbt/target/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['scripts/*.js', 'jest.config.js', 'test/support/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The console's script, run by the browser as written (no build step).
    files: ['src/console/static/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', Element: 'readonly', console: 'readonly' } },
  },
  {
    // The determinism guard: the workflows, and the pure modules of src/ they may import (which
    // must stay pure themselves, so the same rule holds for them).
    // The SDK (src/sdk/) is pure too: DAG files and the engine import it. A DAG's own activities
    // (workflows/dags/<dag>.activities.ts; in a DAG's folder, every module but dag.ts and the pure
    // contract.ts it reads) are activities: they do I/O.
    // An operator's folder (src/operators/<name>/) holds its pure definition and its workflow step,
    // held to this rule, and its activity, which is not; so do the tables beside them.
    files: ['workflows/**/*.ts', 'src/sdk/**/*.ts', 'src/operators/**/*.ts', ...PURE_SRC.map((name) => `src/${name}.ts`)],
    ignores: ['workflows/dags/**/*.activities.ts', 'workflows/dags/*/!(dag|contract).ts', 'src/operators/activities.ts', 'src/operators/*/activity.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'workflows are deterministic: no Node built-ins; do I/O in an activity' })),
            { name: 'pg', message: 'workflows do no I/O: query Postgres from an activity' },
            { name: 'pg-copy-streams', message: 'workflows do no I/O: COPY from an activity' },
            { name: '@duckdb/node-api', message: 'workflows do no I/O: run DuckDB from an activity' },
            { name: 'nodemailer', message: 'workflows do no I/O: send mail from an activity' },
            { name: 'pino', message: 'use the workflow logger (log from @temporalio/workflow)' },
            { name: '@temporalio/client', message: 'workflows use @temporalio/workflow, not the client' },
            { name: '@temporalio/worker', message: 'workflows use @temporalio/workflow, not the worker' },
            { name: '@temporalio/activity', message: 'activity context does not exist in a workflow' },
          ],
          patterns: [
            {
              group: ['**/activities', '**/activities/*', '**/*.activities', '**/activity'],
              allowTypeImports: true,
              message: 'import activities as types only: import type { Activities } from "../activities"',
            },
            {
              group: [
                '**/src/*',
                '**/src/*/**',
                '!**/src/sdk',
                '!**/src/sdk/*',
                '!**/src/operators',
                '!**/src/operators/*',
                '!**/src/operators/*/*',
                ...PURE_SRC.map((name) => `!**/src/${name}`),
              ],
              allowTypeImports: true,
              message: `workflows may import only the pure modules of src/ (${PURE_SRC.join(', ')}); the others do I/O`,
            },
          ],
        },
      ],
    },
  },
);
