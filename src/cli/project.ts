/**
 * `baton init`, `start`, `stop` and `schedules sync`: a project of one's own, its platform and
 * its DAGs' schedules.
 */
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { loadServiceSettings } from '../config';
import { loadCatalog } from '../dag-catalog';
import { initProject } from '../init';
import { stopPlatform } from '../platform';
import { syncSchedules } from '../schedules';
import { startProject } from '../start';
import { intArg, withClient } from './args';
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
    .command('ui')
    .description('serve the web console: the DAGs, the grid across dates, graphs, trigger forms and every operation of a run')
    .option('--host <host>', 'the address to listen on (127.0.0.1; another needs BATON_CONSOLE_TOKEN or BATON_CONSOLE_USERS)')
    .option('--port <n>', 'the port (8280; 0 for any free one)', intArg('--port'))
    .addOption(new Option('--url-file <file>', "where the console's address is written once it listens (baton start)").hideHelp())
    .action(async (opts: { host?: string; port?: number; urlFile?: string }) => {
      const { serveConsole } = await import('../console'); // the server and its pages: only where the console runs
      const running = await serveConsole({ host: opts.host, port: opts.port });
      out(`Baton console: ${running.url}`);
      if (opts.urlFile) await writeFile(opts.urlFile, `${running.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });

  program
    .command('stop')
    .description('stop the console and the worker, and the Temporal dev server and Postgres cluster if `baton start` started them')
    .action(async () => stopPlatform(loadServiceSettings(), (line) => out(`baton: ${line}`)));

  program
    .command('start')
    .description("start the platform (Temporal dev server, Postgres) and a worker serving this project's DAGs; sync their schedules")
    .action(async () => {
      const { client, config, catalog, consoleUrl } = await startProject((line) => out(`baton: ${line}`));
      try {
        out(`\nBaton console: ${consoleUrl}`);
        out(`Temporal Web UI: ${config.webUiUrl}`);
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
