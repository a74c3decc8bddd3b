/** The peers scenario's Airflow side: Airflow 3 standalone on its own Postgres database, running the 7-task no-op DAG alone. */
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadServiceSettings } from '../../src/config';
import { LocalPostgres, run } from '../../src/platform';
import { chromium } from 'playwright-core';
import { ensureChromium } from '../../src/test-runner/debian-tools';
import { median, waitFor, type BenchContext } from '../harness';
import { freePort, logTail, runGroup, startGroup } from '../peers/python';

export const PEERS_DIR = path.join(__dirname, '..', 'peers');
export const TASKS = 7;

export interface Timed {
  /** Every hand-off: a task's end to the next task's start, ms. */
  gaps: number[];
  /** Each run's start to end, ms. */
  durations: number[];
}

/** Gaps between consecutive tasks, ordered by start. */
export function handOffs(tasks: Array<{ start: number; end: number }>): number[] {
  const sorted = [...tasks].sort((a, b) => a.start - b.start);
  return sorted.slice(1).map((t, i) => t.start - sorted[i].end);
}

export const ms = (iso: string | null) => {
  if (!iso) throw new Error('a task without a start or end time');
  return Date.parse(iso);
};

// ---- Baton and Prefect, taking turns ------------------------------------------------------

export interface AirflowReport {
  runs: Array<{
    run_id: string;
    state: string;
    queued_at: string;
    start_date: string;
    end_date: string;
    tasks: Array<{ task_id: string; state: string; start_date: string | null; end_date: string | null }>;
  }>;
}

/**
 * Airflow's verdicts on every trigger rule and setup shape, live (bench/peers/trigger_rules_dag.py
 * on SQLite under its own home), against the recorded table Baton's workflow tier holds Baton to
 * (test/fixtures/airflow-trigger-rules.json): the tasks whose state differs, none when the table is current.
 */
export async function triggerRulesAgainstTable(venv: string, peersHome: string): Promise<{ tasks: number; differ: string[] }> {
  const home = path.join(peersHome, 'airflow-trigger-rules');
  await rm(home, { recursive: true, force: true });
  await mkdir(home, { recursive: true });
  const out = path.join(home, 'states.json');
  await run(path.join(venv, 'bin', 'python'), [path.join(PEERS_DIR, 'trigger_rules_dag.py'), out], { env: { ...process.env, AIRFLOW_HOME: home } });
  const live = (JSON.parse(await readFile(out, 'utf8')) as { states: Record<string, string> }).states;
  const table = (
    JSON.parse(await readFile(path.join(__dirname, '..', '..', 'test', 'fixtures', 'airflow-trigger-rules.json'), 'utf8')) as { states: Record<string, string> }
  ).states;
  const differ = Object.keys({ ...live, ...table }).filter((id) => live[id] !== table[id]);
  return { tasks: Object.keys(live).length, differ };
}

/** Airflow's metadata database: `airflow_peers` beside the bench's on the local cluster, or SQLite under AIRFLOW_HOME when the database is someone else's. */
export async function airflowDatabase(ctx: BenchContext, airflowHome: string): Promise<string> {
  const settings = loadServiceSettings(process.env);
  if (settings.externalDatabaseUrl) return `sqlite:///${path.join(airflowHome, 'airflow.db')}`;
  await new LocalPostgres(settings).ensureDatabase('airflow_peers');
  const url = new URL(ctx.env.DATABASE_URL!);
  return `postgresql+psycopg2://${url.username}:${url.password}@${url.host}/airflow_peers`;
}

/**
 * Airflow standalone (LocalExecutor) on its own metadata database with the peers' DAG files,
 * ready (its scheduler, dag processor and triggerer heartbeat, and its API server answers); `work`
 * runs with its environment and API address, then it stops.
 */
export async function withAirflow<T>(
  ctx: BenchContext,
  venv: string,
  peersHome: string,
  work: (airflow: { env: NodeJS.ProcessEnv; home: string; base: string; startupMs: number; log: string }) => Promise<T>,
): Promise<T> {
  const airflowHome = path.join(peersHome, 'airflow');
  const dags = path.join(airflowHome, 'dags');
  await mkdir(dags, { recursive: true });
  await copyFile(path.join(PEERS_DIR, 'noop_dag.py'), path.join(dags, 'noop_dag.py'));
  await copyFile(path.join(PEERS_DIR, 'branches_dag.py'), path.join(dags, 'branches_dag.py'));
  await copyFile(path.join(PEERS_DIR, 'grid_dag.py'), path.join(dags, 'grid_dag.py'));
  const [apiPort, logPort, triggerLogPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.join(venv, 'bin')}:${process.env.PATH}`,
    AIRFLOW_HOME: airflowHome,
    AIRFLOW__CORE__DAGS_FOLDER: dags,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
    AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'False',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: await airflowDatabase(ctx, airflowHome),
    AIRFLOW__API__HOST: '127.0.0.1',
    AIRFLOW__API__PORT: String(apiPort),
    AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `http://127.0.0.1:${apiPort}/execution/`,
    AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT: String(logPort),
    AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT: String(triggerLogPort),
    // No usage reports from a benchmark (and no network to send them to).
    AIRFLOW__USAGE_DATA_COLLECTION__ENABLED: 'False',
    // Every request is an admin's: the grid is timed without a sign-in in the way.
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS: 'True',
    SCARF_ANALYTICS: 'false',
    DO_NOT_TRACK: '1',
  };
  ctx.say(
    `peers: starting Airflow standalone (LocalExecutor, ${env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN!.split(':')[0]}), log ${path.relative(process.cwd(), path.join(airflowHome, 'standalone.log'))}`,
  );
  const started = performance.now();
  const standalone = startGroup(path.join(venv, 'bin', 'airflow'), ['standalone'], { env, log: path.join(airflowHome, 'standalone.log') });
  try {
    let exited: number | string | undefined;
    void standalone.exited.then((code) => (exited = code));
    // Ready: its scheduler, dag processor and triggerer heartbeat, and the API server the task runners report to answers.
    await waitFor(
      'Airflow standalone to be ready',
      async () => {
        if (exited !== undefined) throw new Error(`airflow standalone exited ${exited}:\n${await logTail(standalone.log)}`);
        if (!(await readFile(standalone.log, 'utf8')).includes('Airflow is ready')) return undefined;
        const health = await fetch(`http://127.0.0.1:${apiPort}/api/v2/monitor/health`).catch(() => undefined);
        return health?.ok ? true : undefined;
      },
      300_000,
      500,
    );
    const startupMs = performance.now() - started;
    return await work({ env, home: airflowHome, base: `http://127.0.0.1:${apiPort}`, startupMs, log: standalone.log });
  } finally {
    ctx.say('peers: stopping Airflow standalone');
    await standalone.stop();
  }
}

/** Airflow's side of the peers scenario: its no-op DAG's hand-offs and runs, and its branches. */
export async function airflowSide(ctx: BenchContext, venv: string, peersHome: string, runs: number) {
  return withAirflow(ctx, venv, peersHome, async ({ env, home: airflowHome, startupMs, log }) => {
    ctx.say(`peers: Airflow ready after ${(startupMs / 1000).toFixed(0)} s; ${runs + 1} runs of peers_noop, one after another`);
    const out = path.join(airflowHome, 'runs.json');
    await runGroup(path.join(venv, 'bin', 'python'), [path.join(PEERS_DIR, 'airflow_runs.py'), 'peers_noop', String(runs + 1), '600', out], {
      env,
      log: path.join(airflowHome, 'runs.log'),
      timeoutMs: 660_000,
    });
    const report = JSON.parse(await readFile(out, 'utf8')) as AirflowReport;
    const timed: Timed = { gaps: [], durations: [] };
    for (const run of report.runs.slice(1)) {
      if (run.state !== 'success' || run.tasks.length !== TASKS)
        throw new Error(`Airflow run ${run.run_id} ended ${run.state} with ${run.tasks.length} tasks; see ${log}`);
      timed.gaps.push(...handOffs(run.tasks.map((t) => ({ start: ms(t.start_date), end: ms(t.end_date) }))));
      timed.durations.push(ms(run.end_date) - ms(run.start_date));
    }
    ctx.say(`peers: Airflow: task gap ${median(timed.gaps).toFixed(0)} ms (median of ${timed.gaps.length}), run ${median(timed.durations).toFixed(0)} ms`);
    // Two independent branches of 5 against one, runs of each in turns after a warm-up of each.
    const branches = { two: [] as number[], one: [] as number[] };
    for (let i = 0; i <= runs; i++) {
      for (const [dagId, kind, tasks] of [
        ['peers_branches', 'two', 10],
        ['peers_one_branch', 'one', 5],
      ] as const) {
        const file = path.join(airflowHome, `${dagId}.json`);
        await runGroup(path.join(venv, 'bin', 'python'), [path.join(PEERS_DIR, 'airflow_runs.py'), dagId, '1', '600', file], {
          env,
          log: path.join(airflowHome, 'runs.log'),
          timeoutMs: 660_000,
        });
        const [run] = (JSON.parse(await readFile(file, 'utf8')) as AirflowReport).runs;
        if (run.state !== 'success' || run.tasks.length !== tasks)
          throw new Error(`Airflow run ${run.run_id} of ${dagId} ended ${run.state} with ${run.tasks.length} tasks`);
        if (i > 0) branches[kind].push(ms(run.end_date) - ms(run.start_date));
      }
    }
    ctx.say(`peers: Airflow: two branches of 5 ${median(branches.two).toFixed(0)} ms, one branch ${median(branches.one).toFixed(0)} ms`);
    return { ...timed, startupMs, branches };
  });
}

/** The runs the grid comparison shows, as the console scenario's. */
export const GRID_RUNS = 100;

/**
 * Airflow 3's grid of the console scenario's DAG shape (bench/peers/grid_dag.py: 50 tasks) over
 * 100 finished runs: the three requests its grid page makes (the DAG's structure and its runs,
 * then every run's task states), timed at the API server, and the page in headless Chromium
 * until its task states have arrived and painted.
 */
export async function airflowGrid(ctx: BenchContext, env: NodeJS.ProcessEnv, venv: string, airflowHome: string, base: string) {
  const out = path.join(airflowHome, 'grid.json');
  await runGroup(path.join(venv, 'bin', 'python'), [path.join(PEERS_DIR, 'airflow_grid.py'), String(GRID_RUNS), out], {
    env,
    log: path.join(airflowHome, 'grid.log'),
    timeoutMs: 600_000,
  });
  const { run_ids: runIds } = JSON.parse(await readFile(out, 'utf8')) as { run_ids: string[] };
  const get = async (url: string) => {
    const response = await fetch(`${base}${url}`);
    const body = await response.text();
    if (!response.ok) throw new Error(`Airflow ${url} answered ${response.status}: ${body.slice(0, 300)}`);
    return body;
  };
  const serverMs: number[] = [];
  for (let i = 0; i <= 10; i++) {
    const started = performance.now();
    await Promise.all([get('/ui/grid/structure/peers_grid?limit=100&order_by=-run_after'), get('/ui/grid/runs/peers_grid?limit=100&order_by=-run_after')]);
    const states = await get(`/ui/grid/ti_summaries/peers_grid?${runIds.map((id) => `run_ids=${encodeURIComponent(id)}`).join('&')}`);
    const lines = states.trim().split('\n').length;
    if (lines !== GRID_RUNS) throw new Error(`Airflow's grid streamed ${lines} runs, not ${GRID_RUNS}`);
    if (i > 0) serverMs.push(performance.now() - started);
  }
  const browser = await chromium.launch({
    executablePath: await ensureChromium(ctx.say),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const paintMs: number[] = [];
  try {
    for (let i = 0; i <= 5; i++) {
      const tab = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const started = performance.now();
      const statesArrived = tab.waitForResponse((r) => r.url().includes('/ui/grid/ti_summaries/peers_grid'), { timeout: 120_000 }).then((r) => r.finished());
      await tab.goto(`${base}/dags/peers_grid`, { waitUntil: 'load' });
      await statesArrived;
      // The frame after the states arrived: the grid painted with them.
      await tab.evaluate(() => {
        const frame = (globalThis as unknown as { requestAnimationFrame: (f: () => void) => void }).requestAnimationFrame;
        return new Promise<void>((resolve) => frame(() => frame(resolve)));
      });
      if (i > 0) paintMs.push(performance.now() - started);
      await tab.close();
    }
  } finally {
    await browser.close();
  }
  ctx.say(`peers: Airflow's grid of 50 tasks x ${GRID_RUNS} runs: server ${median(serverMs).toFixed(0)} ms, painted after ${median(paintMs).toFixed(0)} ms`);
  return { serverMs, paintMs };
}

// ---- The scenario --------------------------------------------------------------------------

/** Airflow's mapped tasks (bench/peers/mapped_dag.py, `airflow dags test` on SQLite under its own home) over `items` no-op items. */
export async function airflowMapped(
  venv: string,
  peersHome: string,
  items: number,
): Promise<{ instances: number; seconds: number; states: Record<string, number> }> {
  const home = path.join(peersHome, 'airflow-mapped');
  await rm(home, { recursive: true, force: true });
  await mkdir(home, { recursive: true });
  const out = path.join(home, 'mapped.json');
  await run(path.join(venv, 'bin', 'python'), [path.join(PEERS_DIR, 'mapped_dag.py'), String(items), out], { env: { ...process.env, AIRFLOW_HOME: home } });
  const report = JSON.parse(await readFile(out, 'utf8')) as { instances: number; seconds: number | null; states: Record<string, number> };
  if (report.instances !== items || report.states.success !== items || !report.seconds)
    throw new Error(`Airflow's mapped DAG ran ${report.instances} of ${items} instances: ${JSON.stringify(report.states)}`);
  return { instances: report.instances, seconds: report.seconds, states: report.states };
}
