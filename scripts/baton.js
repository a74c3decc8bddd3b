#!/usr/bin/env node
// The `baton` command (package.json "bin"): runs src/cli.ts through tsx.
'use strict';
require('tsx/cjs');
require('../src/cli')
  .main()
  .then((code) => process.exit(code));
