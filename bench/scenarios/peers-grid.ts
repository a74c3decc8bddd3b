/**
 * Airflow 3's grid beside Baton's console (`npm run bench -- --peers --only console,peers-grid`,
 * not in CI): the same DAG shape (50 no-op tasks, five chains of 10) over 100 finished runs,
 * timed at Airflow's API server and painted in headless Chromium, in the same bench run as the
 * console scenario's figures.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { median, spread, type BenchContext, type Figure } from '../harness';
import { ensurePeersVenv, pinnedVersion } from '../peers/python';
import { airflowGrid, GRID_RUNS, withAirflow } from './peers-airflow';

export async function peersGridScenario(ctx: BenchContext): Promise<Figure[]> {
  if (process.env.CI) throw new Error('the peers-grid scenario is not for CI: it installs Airflow and runs it');
  const peersHome = path.join(ctx.config.home, 'peers');
  const venv = path.join(ctx.config.home, 'peers-venv');
  await mkdir(peersHome, { recursive: true });
  await ensurePeersVenv(venv, ctx.say);
  const airflow = await pinnedVersion('apache-airflow');
  const grid = await withAirflow(ctx, venv, peersHome, ({ env, home, base }) => airflowGrid(ctx, env, venv, home, base));
  return [
    {
      scenario: 'peers-grid',
      measure: `Airflow ${airflow}'s grid, 50 tasks x ${GRID_RUNS} runs: server time (structure and runs, then every run's task states)`,
      value: median(grid.serverMs),
      unit: 'ms',
      spread: spread(grid.serverMs),
      note: "Baton's: the console scenario's grid page",
    },
    {
      scenario: 'peers-grid',
      measure: `Airflow ${airflow}'s grid page, 50 x ${GRID_RUNS}: painted with every task's state (Chromium)`,
      value: median(grid.paintMs),
      unit: 'ms',
      spread: spread(grid.paintMs),
      note: "Baton's: the console scenario's first paint",
    },
  ];
}
