#!/usr/bin/env node
// The `baton` command (package.json "bin"): runs src/cli/ from source under tsx, as the npm
// scripts do (`node --import tsx`: its hooks for require and import() alike).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const tsx = require.resolve('tsx');
const cli = path.join(__dirname, 'cli.ts');
const child = spawnSync(process.execPath, ['--import', require('node:url').pathToFileURL(tsx).href, cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(child.status ?? (child.signal ? 128 : 1));
