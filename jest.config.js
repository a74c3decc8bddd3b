// Jest for every tier. `npm test` (src/test-runner/index.ts) runs the tiers one after another, each
// with the files and the parallelism it can take; `npx jest <file>` runs one file on its own
// once `npm test` has prepared the platform's environment.
/** @type {import('jest').Config} */
module.exports = {
  // Temporal's SDK under Jest: the node environment (with the worker's platform lane), and real
  // timers around the SDK.
  testEnvironment: '<rootDir>/test/support/lane-environment.js',
  // Longest first, from test/durations.json when Jest has not timed a file yet (a clean clone).
  testSequencer: '<rootDir>/test/support/sequencer.js',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // A DAG file imports Baton by its package name, as in a team's own repository.
  moduleNameMapper: {
    '^baton/sdk$': '<rootDir>/src/sdk/index.ts',
    '^baton/task$': '<rootDir>/src/task/index.ts',
    '^baton/testing$': '<rootDir>/src/testing/index.ts',
  },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  // Tests start Temporal servers, workers, dbt and Postgres, and wait for runs: Jest's 5 s is for
  // in-process code; every tier gets ten minutes a test (a stuck test still fails, naming itself).
  testTimeout: 600_000,
  // A worker that has run a file holding Temporal workers keeps what their workflow bundles loaded
  // (each file adds a few hundred MB of heap), and every file after it there runs slower, its
  // coverage taken over all of it: such a worker is replaced before its next file.
  workerIdleMemoryLimit: '300MB',
  collectCoverageFrom: ['src/**/*.ts', 'workflows/**/*.ts', 'activities/**/*.ts'],
  coverageProvider: 'v8',
};
