/**
 * Jest runs this before each test file (setupFiles): a file in Jest worker n takes lane n of the
 * ones `npm test` prepared (BATON_TEST_LANES, src/test-runner/index.ts): its own namespace,
 * database and data folder, so two files at a time never see each other's runs or rows. Jest's
 * process.env is the file's own copy, and every worker, CLI and client a test starts reads it.
 */
const lanes = process.env.BATON_TEST_LANES ? (JSON.parse(process.env.BATON_TEST_LANES) as NodeJS.ProcessEnv[]) : [];
if (lanes.length) {
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  Object.assign(process.env, lanes[(worker - 1) % lanes.length]);
}
