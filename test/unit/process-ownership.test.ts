/**
 * What `npm start` / `npm stop` count as theirs: a pid file names a process by pid and start
 * time, so a stale file whose pid now belongs to another program (a reboot, a wrap) is not
 * theirs, whatever that program's command line; and one lock makes two set-ups take turns.
 */
import assert from '../support/assert';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { livePid, processStartTime, withLock } from '../../src/platform';
import { tempDir } from '../support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a pid file is ours only for the process it was written for: same pid, same start time', async () => {
  const dir = await tempDir();
  // Another program whose command line has the marker `npm stop` looks for.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'worker.js start-dev']);
  await new Promise((r) => other.once('spawn', r));
  try {
    const file = path.join(dir, 'worker.pid');
    const started = processStartTime(other.pid!);
    assert.match(started ?? '', /^\d+$/);
    await writeFile(file, `${other.pid} ${started}\n`);
    assert.equal(await livePid(file, 'worker.js'), other.pid);
    // The same pid, started at another time: a different process, not ours to stop.
    await writeFile(file, `${other.pid} ${Number(started) - 1}\n`);
    assert.equal(await livePid(file, 'worker.js'), undefined);
    // A pid that is not running at all.
    await writeFile(file, `999999999 ${started}\n`);
    assert.equal(await livePid(file, 'worker.js'), undefined);
  } finally {
    other.kill('SIGKILL');
  }
});

test('one lock: two set-ups at once take turns, and a lock left by a dead process is taken over', async () => {
  const dir = await tempDir();
  const lock = path.join(dir, 'platform.lock');
  const spans: Array<[number, number]> = [];
  const said: string[] = [];
  const work = async () => {
    const from = Date.now();
    await sleep(400);
    spans.push([from, Date.now()]);
  };
  await Promise.all([withLock(lock, 'a set-up', (l) => said.push(l), work), withLock(lock, 'a set-up', (l) => said.push(l), work)]);
  spans.sort((a, b) => a[0] - b[0]);
  assert.ok(spans[1][0] >= spans[0][1], 'the second began after the first ended');
  assert.equal(said.length, 1);
  assert.match(said[0], new RegExp(`^waiting for a set-up under way in process ${process.pid}$`));

  // A lock whose holder died (its pid file names a process that is gone).
  await writeFile(lock, `999999999 12345\n`);
  let ran = false;
  await withLock(
    lock,
    'a set-up',
    () => undefined,
    async () => {
      ran = true;
    },
  );
  assert.equal(ran, true);
});
