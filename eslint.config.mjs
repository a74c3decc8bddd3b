// Lint for the whole project, plus the determinism guard on workflows/: workflow code is
// replayed, so it must not import Node built-ins, I/O clients, loggers or activity values.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.baton/**', 'data/**', 'dbt/target/**', 'bench/results/**'] },
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
    files: ['scripts/*.js', 'jest.config.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
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
              group: ['**/activities', '**/activities/*'],
              allowTypeImports: true,
              message: 'import activities as types only: import type { Activities } from "../activities"',
            },
            {
              group: ['**/src/config', '**/src/logging', '**/src/services', '**/src/worker', '**/src/client', '**/src/platform'],
              message: 'process-world modules do I/O; workflows may import only pure modules of src/',
            },
          ],
        },
      ],
    },
  },
);
