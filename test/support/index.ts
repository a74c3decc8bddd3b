/** Shared set-up for the test tiers, one module per thing a test needs. */
export * from './assertions';
export * from './browser';
export * from './platform';
export * from './smtp';
export * from './temporal';
export * from './warehouse';
export * from './worker';
export * from './fixtures';
