/**
 * The smoke test of `npm run bench -- --quick`: every scenario runs against the real platform
 * (its own namespace and database), each run's data checked by the scenario itself, and the
 * table and results file come out whole. The figures are not judged here: this machine is
 * shared and noisy, and the targets are read from a full run (bench/README.md).
 */
import assert from '../support/assert';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, test } from '@jest/globals';
import type { Figure } from '../../bench/harness';
import { execFileAsync, repoRoot, tempDir } from '../support';

const SCENARIOS = ['backfill', 'branches', 'console', 'datapath', 'flow', 'mapping', 'overhead', 'reader', 'sensors'];
let dir = '';

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('npm run bench -- --quick runs every scenario and writes one table and its results file', async () => {
  dir = await tempDir('baton-bench-');
  const file = path.join(dir, 'results.json');
  // The bench picks its own namespace, database and data folder on the platform npm test runs.
  const { DATABASE_URL: _db, BATON_CONN_POSTGRES_PROD: _source, TEMPORAL_NAMESPACE: _ns, BATON_DATA_DIR: _data, ...env } = process.env;
  const startedAt = Date.now();
  let stdout = '';
  try {
    ({ stdout } = await execFileAsync('npm', ['run', 'bench', '--silent', '--', '--quick', '--results', file], {
      cwd: repoRoot,
      env,
      timeout: 300_000,
      maxBuffer: 16 << 20,
    }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    assert.fail(`npm run bench -- --quick failed: ${e.message}\n${(e.stdout ?? '').slice(-4000)}${e.stderr ?? ''}`);
  }
  const seconds = (Date.now() - startedAt) / 1000;
  assert.ok(seconds < 300, `the quick run took ${seconds.toFixed(0)} s, more than five minutes`);

  for (const name of SCENARIOS) assert.match(stdout, new RegExp(`baton bench: scenario ${name} took \\d+ s`));
  assert.match(stdout, /^scenario +measure +value +spread +floor +ratio +target +note$/m);
  assert.match(stdout, new RegExp(`baton bench: results in .*${path.basename(file)}`));

  const results = JSON.parse(await readFile(file, 'utf8')) as { quick: boolean; machine: Record<string, unknown>; figures: Figure[] };
  assert.equal(results.quick, true);
  assert.equal(results.machine.cores, (await import('node:os')).cpus().length);
  assert.match(String(results.machine.postgres), /^PostgreSQL 15\./);
  assert.match(String(results.machine.dbt), /^\d+\.\d+\.\d+$/);
  assert.deepEqual([...new Set(results.figures.map((f) => f.scenario))].sort(), SCENARIOS);
  for (const f of results.figures) {
    assert.ok(Number.isFinite(f.value) && f.value >= 0, `${f.scenario} ${f.measure}: ${f.value}`);
    if (f.ratio !== undefined) assert.ok(Number.isFinite(f.ratio) && f.ratio > 0 && f.floor, `${f.measure}: a ratio is to a floor`);
    if (f.target) assert.equal(typeof f.met, 'boolean', `${f.measure}: a target is met or missed`);
  }
  const measure = (scenario: string, pattern: RegExp) => {
    const found = results.figures.find((f) => f.scenario === scenario && pattern.test(f.measure));
    assert.ok(found, `no ${scenario} figure matching ${pattern}`);
    return found;
  };
  // The scenarios check their runs' data and throw on a mismatch; the notes say what was checked.
  assert.match(
    measure('backfill', /4 dates x 1,000 rows without dbt, 4 at a time: runs per minute/).note!,
    /4 of 4 runs succeeded, the warehouse's rows checked per date/,
  );
  assert.match(measure('backfill', /1 date x 1,000 rows with dbt, 1 at a time: runs per minute/).note!, /1 of 1 runs? succeeded/);
  assert.equal(measure('overhead', /^10 sequential runs: run time, p50$/).target, '<= 150 ms');
  assert.equal(measure('overhead', /^10 sequential runs: task end to next task start, p50$/).target, '<= 20 ms');
  assert.equal(measure('overhead', /^10 sequential runs: DAG engine run time, p50$/).target, '<= 1.1x');
  assert.equal(measure('overhead', /^10 sequential runs: DAG engine task end to next task start, p50$/).floor?.label, 'hand-written noopDag');
  assert.equal(measure('branches', /two independent branches of 5 no-op tasks, run time p50$/).target, '<= 1.3x');
  // The engine starts both branches in one workflow task in every run.
  assert.equal(measure('branches', /first tasks one workflow task scheduled/).value, 100);
  assert.equal(measure('datapath', /0\.1M rows: the four stages$/).target, '<= 5x');
  assert.equal(measure('datapath', /0\.1M rows: the four stages, to the psql script$/).target, '<= 0.7x');
  assert.equal(measure('flow', /0\.1M rows CSV to Parquet$/).unit, 'ms');
  assert.equal(measure('sensors', /20 poke sensors: activity slots busy/).value, 10, 'waiting pokes hold all 10 slots');
  // The console's grid of 5 runs was read whole (the scenario counts its 250 green cells) and timed.
  assert.ok(measure('console', /^grid page, 50 tasks x 5 runs: server time$/).value > 0);
  assert.equal(measure('sensors', /20 reschedule sensors: activity slots busy/).value, 0, 'rescheduled sensors hold none');
  assert.equal(measure('mapping', /a task mapped over 100 no-op items, 50 at once: instances per second/).unit, 'instances/s');
  assert.match(measure('mapping', /an hourly DAG's backfill of 3 runs/).floor!.label, /a daily DAG's backfill of 3 runs/);
  // The reader read every record of both files (the scenario checks its counts) against DuckDB's read of the same bytes.
  assert.equal(measure('reader', /^0\.1M rows, 1% bad rows: Baton reader, reading only, MB\/s per core$/).floor?.label, 'DuckDB read_csv, 1 thread');
  assert.equal(measure('reader', /^0\.1M rows, clean: DuckDB read_csv, 2 threads, MB\/s per core$/).unit, 'MB/s');
  // extract's way: the plain file numbered line by line (the scenario fails unless it took the plain path).
  assert.equal(measure('reader', /^0\.1M rows, 1% bad rows: Baton, numbering a plain file \(extract\), MB\/s per core$/).unit, 'MB/s');
});
