/**
 * Scenario 8: the peers, with `npm run bench -- --peers` only (never in CI: it installs Airflow
 * and Prefect, ~ 180 packages, and takes minutes). In the same run on the same machine: Baton
 * and Prefect in turns, one run each, so that the machine's changing load falls on both alike;
 * then Airflow alone, since its idle scheduler and 32 executor workers would weigh on the others:
 *
 * - the 7-task no-op DAG, chained: Baton's noopDag on a bench worker; Airflow 3 standalone (its
 *   LocalExecutor, a Postgres metadata database) running bench/peers/noop_dag.py; a Prefect 3
 *   flow of 7 no-op tasks on its local ephemeral API. The figure is the task gap, from a task's
 *   end to the next task's start, as each orchestrator records them (Temporal's history,
 *   Airflow's task_instance table, Prefect's task run states), over every hand-off of every run
 *   after one warm-up run; and the run's duration.
 * - the original pandas Prefect flow (ORIGINAL-PIPELINES.md 8.4, bench/peers/orders_pipeline.py,
 *   retries and cache as written, the cache refreshed as Baton's runs here refresh theirs)
 *   against Baton's orders-etl on the same generated 1M-row file, wall time of a run.
 *
 * The original flow stops at the first bad row (`astype(float)` of "twelve"), so the compared
 * file has no bad rows (seed 7, like the flow scenario's); the flow scenario's kind of file, 1 %
 * bad rows, is run once too to show where the original stops.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { OrdersPipelineResult } from '../../workflows/dags/orders-etl/contract';
import { generateOrders } from '../../scripts/sample-orders';
import { median, sleep, spread, startBenchWorker, type BenchContext, type Figure } from '../harness';
import { ensurePeersVenv, pinnedVersion, startConversation, type Conversation } from '../peers/python';
import { engineOneBranch, engineTwoBranches } from '../engine-dags';
import { noopPolicy, runTimings } from '../runs';
import { airflowMapped, airflowSide, handOffs, ms, PEERS_DIR, TASKS, triggerRulesAgainstTable, type Timed } from './peers-airflow';
import { mappedRun, MAX_ACTIVE } from './mapping';

/** The compared file (no bad rows) and the flow scenario's kind (1 % bad rows), both seed 7. */
const CLEAN_DS = '2031-08-02';
const BAD_DS = '2031-08-01';
const ROWS = 1_000_000;
/** Where a Baton flow run's time goes (its data tasks), for the figure's note. */
const FLOW_STAGES = ['orders-etl.extractOrders', 'orders-etl.transformOrders', 'orders-etl.loadOrders'];

interface PrefectNoopRun {
  state: string;
  start_time: string;
  end_time: string;
  wall_s: number;
  tasks: Array<{ name: string; state: string; start_time: string | null; end_time: string | null }>;
}
interface PrefectOrdersRun {
  state: string;
  message: string | null;
  wall_s: number;
  /** Each task run's final state name (`Completed`, `Cached`, ...), by task run name. */
  tasks?: Record<string, string | null>;
}

/** The Prefect process (bench/peers/prefect_runs.py) in the orders working directory: data/raw holds links to the generated files. */
async function startPrefect(ctx: BenchContext, venv: string, peersHome: string): Promise<Conversation> {
  const prefectHome = path.join(peersHome, 'prefect');
  const workDir = path.join(peersHome, 'orders');
  await mkdir(prefectHome, { recursive: true });
  await mkdir(path.join(workDir, 'data', 'raw'), { recursive: true });
  await mkdir(path.join(workDir, 'data', 'processed'), { recursive: true });
  for (const ds of [CLEAN_DS, BAD_DS]) {
    const link = path.join(workDir, 'data', 'raw', `orders_${ds}.csv`);
    await rm(link, { force: true });
    await symlink(path.join(ctx.config.dataDir, 'raw', `orders_${ds}.csv`), link);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PREFECT_HOME: prefectHome,
    // Set outright: prefect 3.7 puts results and its memo store under ~/.prefect whatever PREFECT_HOME says.
    PREFECT_LOCAL_STORAGE_PATH: path.join(prefectHome, 'storage'),
    PREFECT_MEMO_STORE_PATH: path.join(prefectHome, 'memo_store.toml'),
    // Every run extracts, as Baton's runs here do (refreshCache); the result is still cached, as written.
    PREFECT_TASKS_REFRESH_CACHE: 'true',
    PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
    // Its ephemeral API gets 20 s to start by default, which a busy 2-core machine can miss on the first start (migrations).
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: '120',
    DO_NOT_TRACK: '1',
    // orders_pipeline.py is imported from bench/peers: no __pycache__ in the work tree.
    PYTHONDONTWRITEBYTECODE: '1',
  };
  return startConversation(path.join(venv, 'bin', 'python'), [path.join(PEERS_DIR, 'prefect_runs.py')], {
    env,
    cwd: workDir,
    log: path.join(prefectHome, 'prefect.log'),
  });
}

/**
 * Baton and Prefect run in turns, one run each, so that the machine's load (shared, noisy)
 * falls on both alike; the first no-op run of each is a warm-up.
 */
async function batonAndPrefect(ctx: BenchContext, venv: string, peersHome: string, runs: number, repeats: number) {
  const taskQueue = `bench-peers-${randomUUID().slice(0, 8)}`;
  // The files are generated before the runs: their settle wait is not the flow's work (pandas reads at once).
  const worker = await startBenchWorker({ ...ctx, env: { ...ctx.env, BATON_FILE_SETTLE: '0s' } }, taskQueue, 10);
  ctx.say('peers: starting Prefect (its ephemeral API starts with a first flow run)');
  const prefect = await startPrefect(ctx, venv, peersHome);
  try {
    const { first_flow_s: firstFlowS } = JSON.parse(await prefect.next('Prefect to start', 300_000)) as { first_flow_s: number };
    const baton = {
      noop: { gaps: [], durations: [] } as Timed,
      branches: { two: [] as number[], one: [] as number[] },
      flowMs: [] as number[],
      stageMs: {} as Record<string, number[]>,
    };
    const pf = { noop: { gaps: [], durations: [] } as Timed, noopWall: [] as number[], ordersMs: [] as number[] };

    ctx.say(`peers: ${runs + 1} runs of the 7-task no-op DAG on Baton and on Prefect, in turns`);
    for (let i = 0; i <= runs; i++) {
      const workflowId = `${taskQueue}-noop-${i}`;
      await ctx.client.workflow.execute('noopDag', { taskQueue, workflowId, args: [{ ds: '2024-01-01', dag: noopPolicy('bench_peers'), tasks: TASKS }] });
      const run = JSON.parse(await prefect.ask('noop', 120_000)) as PrefectNoopRun;
      if (run.state !== 'COMPLETED' || run.tasks.length !== TASKS) throw new Error(`a Prefect no-op run ended ${run.state} with ${run.tasks.length} tasks`);
      if (i === 0) continue; // warm-up
      const t = await runTimings(ctx.client, workflowId);
      if (t.tasks.length !== TASKS) throw new Error(`noopDag ran ${t.tasks.length} tasks, not ${TASKS}`);
      baton.noop.gaps.push(...handOffs(t.tasks.map((task) => ({ start: task.startedAt!, end: task.completedAt! }))));
      baton.noop.durations.push(t.endedAt - t.startedAt);
      pf.noop.gaps.push(...handOffs(run.tasks.map((task) => ({ start: ms(task.start_time), end: ms(task.end_time) }))));
      pf.noop.durations.push(ms(run.end_time) - ms(run.start_time));
      pf.noopWall.push(run.wall_s * 1000);
    }
    ctx.say(`peers: task gap: Baton ${median(baton.noop.gaps)} ms, Prefect ${median(pf.noop.gaps).toFixed(1)} ms (medians of ${baton.noop.gaps.length})`);

    // The DAG engine on two independent branches of 5 and on one branch, in turns after a warm-up of each.
    for (let i = 0; i <= runs; i++) {
      for (const [dag, kind] of [
        [engineTwoBranches, 'two'],
        [engineOneBranch, 'one'],
      ] as const) {
        const workflowId = `${taskQueue}-${dag.dagId}-${i}`;
        await ctx.client.workflow.execute(dag.dagId, { taskQueue, workflowId, args: [{ ds: '2024-01-01' }] });
        const t = await runTimings(ctx.client, workflowId);
        if (i > 0) baton.branches[kind].push(t.endedAt - t.startedAt);
      }
    }

    ctx.say(`peers: orders-etl on 1M rows, ${repeats} runs each, in turns: Baton, and the original Prefect flow with pandas`);
    for (let i = 0; i < repeats; i++) {
      // Who goes first alternates, so neither always runs on the other's leftovers (page cache, memory).
      for (const who of i % 2 === 0 ? ['baton', 'prefect'] : ['prefect', 'baton']) {
        if (who === 'baton') {
          const workflowId = `${taskQueue}-flow-${i}`;
          const started = performance.now();
          const result = (await ctx.client.workflow.execute('ordersPipeline', {
            taskQueue,
            workflowId,
            args: [{ ds: CLEAN_DS, conf: { refresh_cache: true } }],
          })) as OrdersPipelineResult;
          baton.flowMs.push(performance.now() - started);
          if (result.rowsIn !== ROWS) throw new Error(`orders-etl read ${result.rowsIn} rows of ${ROWS}`);
          for (const stage of FLOW_STAGES) {
            const [task] = (await runTimings(ctx.client, workflowId, stage)).tasks;
            if (task?.startedAt !== undefined && task.completedAt !== undefined) (baton.stageMs[stage] ??= []).push(task.completedAt - task.startedAt);
          }
        } else {
          const run = JSON.parse(await prefect.ask(`orders ${CLEAN_DS}`, 600_000)) as PrefectOrdersRun;
          if (run.state !== 'COMPLETED') throw new Error(`the original Prefect flow ended ${run.state} on the file without bad rows: ${run.message}`);
          // Like for like: Baton's runs refresh their cache, so Prefect's must read the file too, every run.
          const cached = Object.entries(run.tasks ?? {}).filter(([, state]) => state === 'Cached');
          if (cached.length || !run.tasks)
            throw new Error(
              `the original Prefect flow served ${cached.map(([name]) => name).join(', ') || 'its tasks'} from its cache: not a like-for-like run (${JSON.stringify(run.tasks)})`,
            );
          pf.ordersMs.push(run.wall_s * 1000);
        }
      }
      ctx.say(`peers: orders-etl, 1M rows: Baton ${(baton.flowMs[i] / 1000).toFixed(2)} s, Prefect + pandas ${(pf.ordersMs[i] / 1000).toFixed(2)} s`);
    }
    const bad = JSON.parse(await prefect.ask(`orders ${BAD_DS}`, 600_000)) as PrefectOrdersRun;
    ctx.say(`peers: the original Prefect flow on 1 % bad rows: ${bad.state}${bad.message ? `: ${bad.message}` : ''}`);
    return { baton, prefect: { ...pf, firstFlowMs: firstFlowS * 1000, bad } };
  } finally {
    prefect.child.stdin?.end('quit\n');
    await Promise.race([prefect.exited, sleep(30_000)]);
    await prefect.stop();
    await worker.stop();
  }
}

// ---- Airflow -------------------------------------------------------------------------------

export async function peersScenario(ctx: BenchContext): Promise<Figure[]> {
  if (process.env.CI) throw new Error('the peers scenario is not for CI: it installs Airflow and Prefect and runs for minutes');
  const runs = ctx.quick ? 3 : 5;
  const repeats = ctx.quick ? 1 : 3;
  const peersHome = path.join(ctx.config.home, 'peers');
  const venv = path.join(ctx.config.home, 'peers-venv');
  await mkdir(peersHome, { recursive: true });
  const installMs = await ensurePeersVenv(venv, ctx.say);
  if (installMs !== undefined) ctx.say(`peers: installed in ${(installMs / 1000).toFixed(0)} s`);
  const [airflow, prefect, pandas] = [await pinnedVersion('apache-airflow'), await pinnedVersion('prefect'), await pinnedVersion('pandas')];

  ctx.say('peers: generating 1M rows twice (no bad rows; 1 % bad rows), seed 7');
  await generateOrders({ ds: CLEAN_DS, rows: ROWS, badRate: 0, seed: 7, file: path.join(ctx.config.dataDir, 'raw', `orders_${CLEAN_DS}.csv`) });
  await generateOrders({ ds: BAD_DS, rows: ROWS, badRate: 0.01, seed: 7, file: path.join(ctx.config.dataDir, 'raw', `orders_${BAD_DS}.csv`) });

  const { baton, prefect: pf } = await batonAndPrefect(ctx, venv, peersHome, runs, repeats);
  const af = await airflowSide(ctx, venv, peersHome, runs);
  ctx.say('peers: Airflow decides every trigger rule and setup shape, against the table Baton is tested with');
  const rules = await triggerRulesAgainstTable(venv, peersHome);
  // Mapped tasks: the same count on both (Airflow's max_map_length raised to it), Baton's 50 at once.
  const mapItems = ctx.quick ? 100 : 1_000;
  ctx.say(`peers: a task mapped over ${mapItems} no-op items, on Airflow (dags test) and on Baton`);
  const afMapped = await airflowMapped(venv, peersHome, mapItems);
  const mapQueue = `bench-peers-mapping-${Date.now().toString(36)}`;
  const mapWorker = await startBenchWorker(ctx, mapQueue, MAX_ACTIVE + 10);
  let batonMapped: Awaited<ReturnType<typeof mappedRun>>;
  try {
    await mappedRun(ctx, mapQueue, 20);
    batonMapped = await mappedRun(ctx, mapQueue, mapItems);
  } finally {
    await mapWorker.stop();
  }
  const batonPerSecond = mapItems / (batonMapped.taskMs / 1000);
  const airflowPerSecond = mapItems / afMapped.seconds;

  const batonGap = median(baton.noop.gaps);
  const batonRun = median(baton.noop.durations);
  const batonFlow = median(baton.flowMs);
  const ratioTo = (value: number, floor: number, label: string) => ({ floor: { label, value: floor }, ratio: value / floor });
  const figures: Figure[] = [
    {
      scenario: 'peers',
      measure: `Baton noopDag, ${TASKS} tasks: task gap (a task's end to the next one's start)`,
      value: batonGap,
      unit: 'ms',
      spread: spread(baton.noop.gaps),
      note: `${baton.noop.gaps.length} hand-offs, Temporal history`,
    },
    {
      scenario: 'peers',
      measure: `Airflow ${airflow} standalone, LocalExecutor: task gap`,
      value: median(af.gaps),
      unit: 'ms',
      spread: spread(af.gaps),
      ...ratioTo(median(af.gaps), batonGap, 'Baton'),
      target: '>= 50x',
      met: median(af.gaps) / batonGap >= 50,
      note: `${af.gaps.length} hand-offs, task_instance start/end dates`,
    },
    {
      scenario: 'peers',
      measure: `Prefect ${prefect} local: task gap`,
      value: median(pf.noop.gaps),
      unit: 'ms',
      spread: spread(pf.noop.gaps),
      ...ratioTo(median(pf.noop.gaps), batonGap, 'Baton'),
      note: `${pf.noop.gaps.length} hand-offs, task run states; tasks run inside the flow's process, not durably`,
    },
    { scenario: 'peers', measure: `Baton noopDag, ${TASKS} tasks: run duration`, value: batonRun, unit: 'ms', spread: spread(baton.noop.durations) },
    {
      scenario: 'peers',
      measure: `Airflow ${airflow}: ${TASKS}-task run duration`,
      value: median(af.durations),
      unit: 'ms',
      spread: spread(af.durations),
      ...ratioTo(median(af.durations), batonRun, 'Baton'),
    },
    {
      scenario: 'peers',
      measure: `Prefect ${prefect}: ${TASKS}-task flow run duration`,
      value: median(pf.noop.durations),
      unit: 'ms',
      spread: spread(pf.noop.durations),
      ...ratioTo(median(pf.noop.durations), batonRun, 'Baton'),
      note: `the flow call takes ${median(pf.noopWall).toFixed(0)} ms`,
    },
    {
      scenario: 'peers',
      measure: `Baton DAG engine: two independent branches of 5 no-op tasks, run duration`,
      value: median(baton.branches.two),
      unit: 'ms',
      spread: spread(baton.branches.two),
      ...ratioTo(median(baton.branches.two), median(baton.branches.one), 'one branch of 5'),
      target: '<= 1.3x',
      met: median(baton.branches.two) / median(baton.branches.one) <= 1.3,
    },
    {
      scenario: 'peers',
      measure: `Airflow ${airflow}, LocalExecutor: the same two branches, run duration`,
      value: median(af.branches.two),
      unit: 'ms',
      spread: spread(af.branches.two),
      ...ratioTo(median(af.branches.two), median(af.branches.one), 'one branch of 5'),
      note: `one branch ${median(af.branches.one).toFixed(0)} ms; Baton's two branches ${median(baton.branches.two).toFixed(0)} ms`,
    },
    {
      scenario: 'peers',
      measure: `Airflow ${airflow}: tasks of the trigger-rule and setup shapes whose state differs from the table Baton's tests hold it to`,
      value: rules.differ.length,
      unit: 'tasks',
      target: '0',
      met: rules.differ.length === 0,
      note: `${rules.tasks} tasks${rules.differ.length ? `; differ: ${rules.differ.slice(0, 5).join(', ')}` : ''}`,
    },
    {
      scenario: 'peers',
      measure: `a task mapped over ${mapItems} no-op items: Baton's instances per second`,
      value: batonPerSecond,
      unit: 'instances/s',
      floor: { label: `Airflow ${airflow}'s expand, dags test`, value: airflowPerSecond },
      ratio: batonPerSecond / airflowPerSecond,
      note: `Baton ${(batonMapped.taskMs / 1000).toFixed(1)} s (50 at once), Airflow ${afMapped.seconds.toFixed(1)} s (first instance's start to last one's end)`,
    },
    { scenario: 'peers', measure: 'Airflow standalone: start to ready', value: af.startupMs, unit: 'ms' },
    { scenario: 'peers', measure: "Prefect: a process's first flow run (starts the ephemeral API)", value: pf.firstFlowMs, unit: 'ms' },
    {
      scenario: 'peers',
      measure: 'Baton orders-etl, 1M rows (no bad rows) CSV to Parquet',
      value: batonFlow,
      unit: 'ms',
      spread: spread(baton.flowMs),
      note: FLOW_STAGES.filter((s) => baton.stageMs[s])
        .map((s) => `${s} ${median(baton.stageMs[s]).toFixed(0)} ms`)
        .join(', '),
    },
    {
      scenario: 'peers',
      measure: `Prefect ${prefect} + pandas ${pandas}, the original flow, same file`,
      value: median(pf.ordersMs),
      unit: 'ms',
      spread: spread(pf.ordersMs),
      ...ratioTo(median(pf.ordersMs), batonFlow, 'Baton'),
      target: '>= 2x',
      met: median(pf.ordersMs) / batonFlow >= 2,
    },
    {
      scenario: 'peers',
      measure: 'Prefect + pandas, the original flow, 1M rows with 1 % bad rows',
      value: pf.bad.wall_s * 1000,
      unit: 'ms',
      note: pf.bad.state === 'COMPLETED' ? 'completed' : `${pf.bad.state}: ${pf.bad.message ?? ''}`,
    },
  ];
  return figures;
}
