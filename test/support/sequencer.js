// Jest's sequencer, knowing how long each file takes before Jest's own cache does (a clean
// clone has none): files with lanes to spare run longest first, so no lane idles at the end
// waiting on one slow file. The seconds in test/durations.json are from a full `npm test`; a
// file missing from it runs first (its time unknown), as Jest runs a file it has not timed.
'use strict';
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const durations = require('../durations.json');

class KnownDurationsSequencer extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached !== undefined) return cached;
    const seconds = durations[path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/')];
    return seconds === undefined ? undefined : seconds * 1000;
  }
}

module.exports = KnownDurationsSequencer;
