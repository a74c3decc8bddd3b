// Jest for every tier. `npm test` (src/test-runner/index.ts) runs the tiers one after another, each
// with the files and the parallelism it can take; `npx jest <file>` runs one file on its own
// once `npm test` has prepared the platform's environment.
/** @type {import('jest').Config} */
module.exports = {
  // Temporal's SDK under Jest: the node environment, and real timers around the SDK.
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  // Tests start Temporal servers, workers, dbt and Postgres: there is no one default that fits,
  // so the runner gives each tier its own (--testTimeout).
  testTimeout: 600_000,
  // Two files at a time each take a lane of the platform of their own (test/support/lane.ts).
  setupFiles: ['<rootDir>/test/support/lane.ts'],
  collectCoverageFrom: ['src/**/*.ts', 'workflows/**/*.ts', 'activities/**/*.ts'],
  coverageProvider: 'v8',
};
