/**
 * `baton assets emit | list`: an external system announces an update of an asset for a
 * partition (as a task's outlets do when it succeeds), and each asset's last update, producers and
 * consumers are shown. Emit needs no worker running: the update waits in its record and in the
 * watchers of the DAGs it may start until one serves them.
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { announceAssetUpdate, consumersOf, listAssets, sourceText } from '../assets';
import { assetRecordWorkflowId, assetWatcherWorkflowId, type AssetUpdate } from '../contracts';
import { loadCatalog } from '../dag-catalog';
import { dagRunWorkflowId } from '../dags';
import { assetNameProblem, formatAssetExpression } from '../sdk/assets';
import { canonicalPartition } from '../timetable';
import { withClient } from './args';

export function assetArg(value: string): string {
  const problem = assetNameProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/** A partition: a date YYYY-MM-DD, or a timestamp with its offset (a sub-daily partition), as run keys write it. */
export function partitionArg(value: string): string {
  try {
    return canonicalPartition(value, '--partition');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function addAssetCommands(program: Command, out: (line: string) => void): void {
  const assetsCmd = program.command('assets').description('assets: the data tasks update (their outlets) and the DAGs scheduled on them');
  assetsCmd
    .command('emit')
    .description('announce an update of an asset for a partition, as a task with it among its outlets does when it succeeds (an external system’s update)')
    .argument('<asset>', 'the asset, such as warehouse.orders', assetArg)
    .requiredOption('--partition <key>', 'the partition updated: a date YYYY-MM-DD, or a timestamp 2024-01-15T13:00:00+00:00', partitionArg)
    .option('--json', 'print JSON')
    .action((asset: string, opts: { partition: string; json?: boolean }) =>
      withClient(async (client, config) => {
        const catalog = loadCatalog();
        const update: AssetUpdate = {
          id: `emit/${randomUUID()}`,
          asset,
          partition: opts.partition,
          at: new Date().toISOString(),
          source: { kind: 'emit', by: process.env.USER ?? 'unknown' },
        };
        const announced = await announceAssetUpdate(client, catalog.dags, update, config.project.taskQueue);
        if (opts.json) return out(JSON.stringify({ update, consumers: announced.consumers }, null, 2));
        out(`${asset} updated for ${opts.partition} (recorded in ${assetRecordWorkflowId(asset)})`);
        const consumers = new Map(consumersOf(catalog.dags, asset).map((d) => [d.dagId, d]));
        for (const c of announced.consumers) {
          if ('refused' in c) out(`  not ${c.dagId}: ${c.refused}`);
          else
            out(
              `  may start ${c.dagId}: its run ${dagRunWorkflowId(c.dagId, c.key)} starts when ${formatAssetExpression(consumers.get(c.dagId)!.assets)} is met for ${c.key} (${assetWatcherWorkflowId(c.dagId)})`,
            );
        }
        if (!announced.consumers.length) out(`  no DAG of this project is scheduled on ${asset}`);
        if (catalog.broken.length)
          out(`  ${catalog.broken.length} DAG file(s) do not validate and were not told: \`baton dags validate\` names their problems`);
      }),
    );
  assetsCmd
    .command('list')
    .description("each asset's last update (partition, time, source) and the DAGs that update it and are scheduled on it")
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withClient(async (client) => {
        const assets = await listAssets(client, loadCatalog().files);
        if (opts.json) return out(JSON.stringify(assets, null, 2));
        if (!assets.length) return out('no assets: no task has outlets, no DAG is scheduled on assets, nothing was emitted');
        for (const a of assets) {
          const last = a.lastUpdate;
          out(
            `${a.asset}  ${last ? `last updated for ${last.partition} at ${last.at} by ${sourceText(last)} (${a.updates} update${a.updates === 1 ? '' : 's'})` : 'never updated'}`,
          );
          out(`  updated by ${a.producers.map((p) => `${p.dagId}.${p.taskId}`).join(', ') || 'no DAG of this project'}`);
          out(`  schedules ${a.consumers.map((c) => `${c.dagId} (${c.condition})`).join(', ') || 'no DAG'}`);
        }
      }),
    );
}
