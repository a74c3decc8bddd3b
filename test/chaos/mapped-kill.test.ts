/**
 * A mapped task's fan-out survives its worker: mapped_example marks one file per partition, and
 * the worker is SIGKILLed twice while the instances run (started again each time). The run
 * succeeds and every partition is marked exactly once: as many marks as partitions, and the sum
 * of their numbers is the checksum of 0..n-1. Read from the batches' histories, never more than
 * 50 instances ran at once, and the run's own history stays small. Bounded: 400 partitions; full (`npm run
 * test:chaos`): 10,000.
 */
import assert from '../support/assert';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { findInCatalog, loadCatalog } from '../../src/dag-catalog';
import { triggerRun, type DagRunResult } from '../../src/runs';
import { mostAtOnceInHistories } from '../support';
import { chaosPlatform, freshDs, FULL, killWorker, report, resultThroughOutages, waitUntil } from './support';

const PARTITIONS = FULL ? 10_000 : 400;
const chaos = chaosPlatform();
const { config } = chaos;

const marked = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.done'));

test(`mapped_example over ${PARTITIONS.toLocaleString('en')} partitions survives two SIGKILLs of its worker during the fan-out; each partition is marked once`, async () => {
  const ds = freshDs(7);
  const dag = findInCatalog(loadCatalog(), 'mapped_example')!;
  const dir = path.join(config.dataDir, 'mapped_example', ds);
  let worker = await chaos.startWorker();
  const started = Date.now();
  const run = await triggerRun(chaos.client, config, dag, ds, { partitions: PARTITIONS });
  const handle = chaos.client.workflow.getHandle(run.workflowId, run.runId);
  for (const share of [0.2, 0.6]) {
    const at = await waitUntil(
      `${share * 100}% of the partitions marked`,
      async () => {
        const n = (await marked(dir)).length;
        return n >= PARTITIONS * share && n;
      },
      300_000,
      200,
    );
    await killWorker(worker);
    report(`mapped-kill: worker killed with ${at} of ${PARTITIONS} partitions marked`);
    worker = await chaos.startWorker();
  }
  const result = await resultThroughOutages<DagRunResult>(handle);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(result.state, 'success');
  const tasks = Object.fromEntries(result.tasks.map((t) => [t.taskId, t]));
  assert.deepEqual(tasks.mark_partition.mapped?.total, PARTITIONS);
  assert.deepEqual(tasks.mark_partition.mapped?.failed, 0);
  const checksum = (PARTITIONS * (PARTITIONS - 1)) / 2;
  assert.deepEqual(tasks.summarize.output, { partitions: PARTITIONS, checksum });
  // The files themselves: one mark per partition, each holding its number.
  const files = await marked(dir);
  assert.equal(files.length, PARTITIONS);
  let sum = 0;
  for (const f of files) sum += Number(await readFile(path.join(dir, f), 'utf8'));
  assert.equal(sum, checksum);
  // maxActive 50 over all batches, from their histories (an instance's started and closed events); the run's own history small.
  const { most } = await mostAtOnceInHistories(chaos.client, tasks.mark_partition.mapped!.batches);
  assert.ok(most <= 50, `at most 50 instances at once, saw ${most}`);
  const own = (await handle.fetchHistory()).events?.length ?? 0;
  assert.ok(own <= 12 * tasks.mark_partition.mapped!.batches.length + 80, `the run's own history is small: ${own} events`);
  report(
    `mapped-kill: ${PARTITIONS} instances, 2 kills, ${seconds.toFixed(0)} s; marks ${files.length}, checksum ${sum}, lost 0, doubled 0; at most ${most} at once; the run's history ${own} events`,
  );
});
