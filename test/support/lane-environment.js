// Jest's node environment, with the platform lane of this Jest worker. `npm test` prepares lanes
// (BATON_TEST_LANES, src/test-runner/index.ts): a namespace, a database and a data folder each,
// so that two test files at a time never see each other's runs or rows. Jest worker n takes lane
// n, in its own process environment before the file's environment is made from it: the file's
// process.env, and every worker, CLI and client a test starts (with an env of its own or not),
// are in that lane.
'use strict';
const { TestEnvironment } = require('jest-environment-node');

class LaneEnvironment extends TestEnvironment {
  constructor(config, context) {
    const lanes = process.env.BATON_TEST_LANES ? JSON.parse(process.env.BATON_TEST_LANES) : [];
    if (lanes.length) Object.assign(process.env, lanes[(Number(process.env.JEST_WORKER_ID ?? '1') - 1) % lanes.length]);
    super(config, context);
  }
}

module.exports = LaneEnvironment;
