#!/usr/bin/env node
// The entry of every npm script: installs the pinned npm dependencies when package-lock.json
// has changed since the last install (so a fresh clone needs nothing but `npm start`), then
// runs scripts/<name>.ts with tsx.
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(path.join(__dirname, `${name}.ts`))) {
  console.error(`usage: node scripts/run.js <script> [args...]; no scripts/${name}.ts`);
  process.exit(2);
}

const lock = readFileSync(path.join(root, 'package-lock.json'));
const want = createHash('sha256').update(lock).digest('hex');
const marker = path.join(root, 'node_modules', '.baton-installed');
if (!existsSync(marker) || readFileSync(marker, 'utf8') !== want) {
  console.error('installing npm dependencies (npm ci)');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (npm.status !== 0) process.exit(npm.status ?? 1);
  writeFileSync(marker, want);
}

const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, `${name}.ts`), ...args], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(child.status ?? (child.signal ? 128 : 1));
