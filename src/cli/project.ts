/**
 * `baton init`, `start`, `stop` and `schedules sync`: a project of one's own, its platform and
 * its DAGs' schedules.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadServiceSettings } from '../config';
import { loadCatalog } from '../dag-catalog';
import { initProject } from '../init';
import { stopPlatform } from '../platform';
import { syncSchedules } from '../schedules';
import { startProject } from '../start';
import { withClient } from './args';
import { DagCommandError } from './dags';

export function addProjectCommands(program: Command, out: (line: string) => void): void {
  program
    .command('init')
    .description('make a project of your own that depends on Baton: package.json, tsconfig, baton.config.json, dags/ with an example DAG and its test')
    .argument('<dir>', 'the project folder (made when missing)')
    .option('--baton <spec>', 'how the project depends on Baton (a version range, or file:<tarball>)')
    .action(async (dir: string, opts: { baton?: string }) => {
      const written = await initProject(dir, { batonSpec: opts.baton });
      for (const file of written) out(`wrote ${path.join(dir, file)}`);
      out(`\nNext, in ${dir}:\n  npm install\n  npx baton start\n  npm test`);
    });

  program
    .command('stop')
    .description('stop the worker, and the Temporal dev server and Postgres cluster if `baton start` started them')
    .action(async () => stopPlatform(loadServiceSettings(), (line) => out(`baton: ${line}`)));

  program
    .command('start')
    .description("start the platform (Temporal dev server, Postgres) and a worker serving this project's DAGs; sync their schedules")
    .action(async () => {
      const { client, config, catalog } = await startProject((line) => out(`baton: ${line}`));
      try {
        out(`\nWeb UI: ${config.webUiUrl}`);
        const [first] = catalog.dags;
        if (first) out(`A run: npx baton trigger ${first.dagId} --ds ${first.startDate} --wait`);
      } finally {
        await client.connection.close();
      }
    });

  program
    .command('schedules')
    .description('Temporal Schedules of the DAGs')
    .command('sync')
    .description('create or update one schedule per DAG from the definitions in code')
    .option('--prune', 'delete Baton schedules whose DAG is no longer in code')
    .option('--json', 'print JSON')
    .action((opts: { prune?: boolean; json?: boolean }) =>
      withClient(async (client) => {
        // A broken file's DAG would look gone: its schedule updated never, or deleted by --prune.
        const catalog = loadCatalog();
        if (catalog.broken.length)
          throw new DagCommandError(`no schedule synced: ${catalog.broken.map((b) => b.message).join('; ')}; \`baton dags validate\` names every problem`);
        const report = await syncSchedules(client, catalog.dags, Boolean(opts.prune));
        if (opts.json) return out(JSON.stringify(report));
        for (const [dagId, outcome] of Object.entries(report.outcomes)) out(`${dagId}: ${outcome}`);
        for (const id of report.removed) out(report.pruned ? `${id}: deleted (no DAG in code)` : `${id}: no DAG in code; --prune deletes it`);
      }),
    );
}
