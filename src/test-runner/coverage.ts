/**
 * The suite's coverage of `src/`, `workflows/` and `activities/`: each tier's Jest run writes its
 * own coverage-final.json; they are merged here into one figure, printed, and held against the
 * floor in test/coverage-floor.json (the figure when it was last raised), which it must not fall below.
 *
 * Code that runs in a worker child process or inside the workflow sandbox is not counted, so the
 * figure understates what the integration tier exercises; what matters is that it does not fall.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import libCoverage from 'istanbul-lib-coverage';
import { projectRoot } from '../config';
import type { Report } from '../platform';

const METRICS = ['lines', 'statements', 'functions', 'branches'] as const;
type Metric = (typeof METRICS)[number];
export const COVERAGE_FLOOR_FILE = path.join(projectRoot, 'test', 'coverage-floor.json');

/** Merges every tier's coverage under `root`; undefined when no tier wrote any. */
export async function mergedCoverage(root: string): Promise<Record<Metric, number> | undefined> {
  if (!existsSync(root)) return undefined;
  const map = libCoverage.createCoverageMap({});
  let tiers = 0;
  for (const tier of readdirSync(root).sort()) {
    const file = path.join(root, tier, 'coverage-final.json');
    if (!existsSync(file)) continue;
    map.merge(JSON.parse(await readFile(file, 'utf8')));
    tiers++;
  }
  if (!tiers) return undefined;
  const summary = map.getCoverageSummary();
  return Object.fromEntries(METRICS.map((m) => [m, summary[m].pct])) as Record<Metric, number>;
}

export async function checkCoverage(root: string, report: Report, { enforceFloor }: { enforceFloor: boolean }): Promise<boolean> {
  const pct = await mergedCoverage(root);
  if (!pct) {
    report('coverage: no tier wrote coverage');
    return !enforceFloor;
  }
  const floor = JSON.parse(await readFile(COVERAGE_FLOOR_FILE, 'utf8')) as Record<Metric, number>;
  const below = METRICS.filter((m) => pct[m] < floor[m]);
  const line = METRICS.map((m) => `${m} ${pct[m].toFixed(2)}% (floor ${floor[m].toFixed(2)}%)`).join(', ');
  report(`coverage of src/, workflows/, activities/: ${line}`);
  if (!enforceFloor) return true;
  if (below.length) report(`coverage fell below its floor in ${below.join(', ')}: add tests for what changed (test/coverage-floor.json)`);
  return below.length === 0;
}
