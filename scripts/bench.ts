/**
 * `npm run bench [-- --quick] [-- --only sensors,...]`: every scenario against the real dev
 * server, Postgres and worker, in a namespace and database of its own; prints one table and
 * writes bench/results/<date>.json. See bench/README.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { Pool } from 'pg';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { BenchContext, Figure } from '../bench/harness';
import { formatTable, machineFacts, writeResults } from '../bench/report';
import { flowScenario } from '../bench/scenarios/flow';
import { overheadScenario } from '../bench/scenarios/overhead';
import { sensorsScenario } from '../bench/scenarios/sensors';
import { connectClient } from '../src/client';
import { loadConfig, loadServiceSettings } from '../src/config';
import { startPlatform } from '../src/platform';
import { workflowBundlerOptions } from '../src/worker';

const BENCH_NAMESPACE = 'baton-bench';
const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  flow: flowScenario,
  overhead: overheadScenario,
  sensors: sensorsScenario,
};

async function main(): Promise<void> {
  const opts = new Command('bench')
    .option('--quick', 'a short run (under five minutes)')
    .option('--only <names>', `comma-separated scenarios: ${Object.keys(SCENARIOS).join(', ')}`)
    .parse(process.argv)
    .opts<{ quick?: boolean; only?: string }>();
  const names = opts.only ? opts.only.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);

  const say = (line: string) => console.log(`baton bench: ${line}`);
  const settings = loadServiceSettings();
  const platform = await startPlatform(settings, say, [BENCH_NAMESPACE]);
  let databaseUrl = platform.databaseUrl;
  if (platform.postgres) {
    await platform.postgres.ensureDatabase('baton_bench');
    databaseUrl = platform.postgres.url('baton_bench', await platform.postgres.password());
  }
  const dataDir = path.join(settings.home, 'bench-data');
  await mkdir(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    BATON_CONN_POSTGRES_PROD: databaseUrl,
    TEMPORAL_ADDRESS: settings.temporalAddress,
    TEMPORAL_NAMESPACE: BENCH_NAMESPACE,
    BATON_DATA_DIR: dataDir,
    BATON_DBT_TARGET: 'dev',
    BATON_VENV: settings.venv,
  };
  const config = loadConfig(env);
  const client = await connectClient(config);
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  try {
    say('bundling the workflows once for every bench worker');
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../bench/workflows'), ...workflowBundlerOptions, logger: new DefaultLogger('WARN') });
    const bundlePath = path.join(settings.home, 'bench', 'workflows.js');
    await mkdir(path.dirname(bundlePath), { recursive: true });
    await writeFile(bundlePath, bundle.code);

    const ctx: BenchContext = { client, config, env, bundlePath, quick: Boolean(opts.quick), say };
    const figures: Figure[] = [];
    for (const name of names) {
      const started = Date.now();
      say(`scenario ${name}`);
      figures.push(...(await SCENARIOS[name](ctx)));
      say(`scenario ${name} took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    console.log(`\n${formatTable(figures)}\n`);
    const file = await writeResults(figures, await machineFacts(pool, settings.venv), ctx.quick);
    say(`results in ${path.relative(process.cwd(), file)}`);
  } finally {
    await pool.end();
    await client.connection.close();
    if (platform.started.includes('temporal')) await platform.temporal.stop(say);
    if (platform.started.includes('postgres')) await platform.postgres?.stop(say);
  }
}

main().catch((err: Error) => {
  console.error(`baton bench: ${err.message}`);
  process.exit(1);
});
