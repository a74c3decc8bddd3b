/**
 * `npm run bench [-- --quick] [-- --only sensors,...] [-- --peers]`: every scenario against the real dev
 * server, Postgres and worker, in a namespace and database of its own; prints one table and
 * writes bench/results/<date>.json. See bench/README.md.
 */
import path from 'node:path';
import { Command } from 'commander';
import { Pool } from 'pg';
import type { BenchContext, Figure } from '../bench/harness';
import { formatTable, machineFacts, resultsFile, writeResults } from '../bench/report';
import { backfillScenario } from '../bench/scenarios/backfill';
import { branchesScenario } from '../bench/scenarios/branches';
import { consoleScenario } from '../bench/scenarios/console';
import { datapathScenario } from '../bench/scenarios/datapath';
import { flowScenario } from '../bench/scenarios/flow';
import { mappingScenario } from '../bench/scenarios/mapping';
import { overheadScenario } from '../bench/scenarios/overhead';
import { peersScenario } from '../bench/scenarios/peers';
import { peersGridScenario } from '../bench/scenarios/peers-grid';
import { readerScenario } from '../bench/scenarios/reader';
import { sensorsScenario } from '../bench/scenarios/sensors';
import { connectClient } from '../src/client';
import { loadConfig, loadServiceSettings } from '../src/config';
import { isolatedEnv, startPlatform, stopStarted } from '../src/platform';
import { bundleWorkflows, compiledEnv, compileEntry } from '../src/build';

const BENCH_NAMESPACE = 'baton-bench';
const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  backfill: backfillScenario,
  branches: branchesScenario,
  console: consoleScenario,
  datapath: datapathScenario,
  flow: flowScenario,
  mapping: mappingScenario,
  overhead: overheadScenario,
  reader: readerScenario,
  sensors: sensorsScenario,
};
/** Only with --peers, never in CI: installs Airflow 3 and Prefect 3 in a venv of their own and runs them beside Baton. */
const PEER_SCENARIOS: typeof SCENARIOS = { peers: peersScenario, 'peers-grid': peersGridScenario };

async function main(): Promise<void> {
  const opts = new Command('bench')
    .option('--quick', 'a short run (under five minutes)')
    .option('--only <names>', `comma-separated scenarios: ${Object.keys(SCENARIOS).join(', ')} (and peers with --peers)`)
    .option('--peers', 'also run Airflow 3 and Prefect 3 on this machine beside Baton (installs them; not in CI)')
    .option('--results <file>', 'write the figures here instead of bench/results/<date>.json')
    .parse(process.argv)
    .opts<{ quick?: boolean; only?: string; peers?: boolean; results?: string }>();
  if (opts.peers && process.env.CI) throw new Error('--peers is not for CI: it installs Airflow and Prefect and runs for minutes');
  const scenarios = { ...SCENARIOS, ...(opts.peers ? PEER_SCENARIOS : {}) };
  const names = opts.only ? opts.only.split(',').map((s) => s.trim()) : Object.keys(scenarios);
  const needPeers = names.filter((n) => !scenarios[n] && PEER_SCENARIOS[n]);
  if (needPeers.length) throw new Error(`scenario ${needPeers.join(', ')} runs only with --peers`);
  const unknown = names.filter((n) => !scenarios[n]);
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);

  const say = (line: string) => console.log(`baton bench: ${line}`);
  const settings = loadServiceSettings();
  const platform = await startPlatform(settings, say, [BENCH_NAMESPACE]);
  const env = await isolatedEnv(settings, platform, { namespace: BENCH_NAMESPACE, database: 'baton_bench', dataFolder: 'bench-data' });
  const config = loadConfig(env);
  const client = await connectClient(config);
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 2 });
  try {
    // The bench worker runs compiled, as Baton's worker does outside tests (src/build.ts).
    say('compiling the bench worker and bundling the workflows once for every scenario');
    const outDir = path.join(settings.home, 'bench');
    const [workerEntry, bundlePath] = await Promise.all([
      compileEntry('bench/worker.ts', outDir),
      bundleWorkflows(path.join(outDir, 'workflows.js'), require.resolve('../bench/workflows')),
    ]);
    const ctx: BenchContext = { client, config, env: { ...env, ...compiledEnv() }, workerEntry, bundlePath, quick: Boolean(opts.quick), say };
    const figures: Figure[] = [];
    for (const name of names) {
      const started = Date.now();
      say(`scenario ${name}`);
      figures.push(...(await scenarios[name](ctx)));
      say(`scenario ${name} took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    console.log(`\n${formatTable(figures)}\n`);
    const file = await writeResults(
      opts.results ? path.resolve(opts.results) : resultsFile(ctx.quick),
      figures,
      await machineFacts(pool, settings.venv),
      ctx.quick,
    );
    say(`results in ${path.relative(process.cwd(), file)}`);
  } finally {
    await pool.end();
    await client.connection.close();
    await stopStarted(platform, say);
  }
}

main().catch((err: Error) => {
  console.error(`baton bench: ${err.message}`);
  process.exit(1);
});
