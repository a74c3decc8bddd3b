/**
 * Assets from the client side: an update announced (to the asset's record and to the watcher of
 * each DAG it schedules, by signal-with-start, so it lands whether or not they are running), the
 * producers and consumers of each asset in the project's DAG files, and what `baton assets list`
 * shows. Shared by the worker's activity (a task's outlets) and `baton assets emit`.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WithWorkflowArgs,
  type WorkflowSignalWithStartOptions,
} from '@temporalio/client';
import {
  assetRecordWorkflowId,
  assetWatcherWorkflowId,
  Signals,
  TASK_QUEUE,
  WorkflowTypes,
  type AssetAnnouncement,
  type AssetConsumer,
  type AssetRecordInput,
  type AssetRecordMemo,
  type AssetUpdate,
  type AssetUpdateForConsumer,
  type AssetWatcherInput,
} from './contracts';
import type { LoadedDag } from './dag-files';
import type { DagDefinition } from './dags';
import { assetsIn, formatAssetExpression, type AssetExpression } from './sdk/assets';
import { assetRunKey, isSubDaily } from './timetable';

/** A DAG scheduled on assets (alone, or assets or time). */
export type AssetScheduledDag = DagDefinition & { assets: AssetExpression };

/** The DAGs an update of `asset` may start: those whose condition names it. */
export const consumersOf = (dags: readonly DagDefinition[], asset: string): AssetScheduledDag[] =>
  dags.filter((d): d is AssetScheduledDag => d.assets !== undefined && assetsIn(d.assets).includes(asset));

/** A DAG scheduled on assets as its watcher needs it. */
export function assetConsumer(dag: AssetScheduledDag, taskQueue: string): AssetConsumer {
  return {
    dagId: dag.dagId,
    workflowType: dag.workflowType,
    taskQueue: dag.taskQueue ?? taskQueue,
    condition: dag.assets,
    ...(dag.runArgs ? { runArgs: dag.runArgs } : {}),
  };
}

/**
 * Announces one update: the asset's record keeps it, and the watcher of each DAG it schedules
 * gets it with the run its partition names; a DAG whose runs the partition cannot name (a date
 * for a DAG that runs hourly, a day before its start_date) is left out, saying why. Each is
 * signal-with-start, so nothing needs to be running; an update sent twice counts once (its id).
 */
export async function announceAssetUpdate(
  client: Client,
  dags: readonly DagDefinition[],
  update: AssetUpdate,
  taskQueue = TASK_QUEUE,
): Promise<AssetAnnouncement> {
  const record: AssetRecordInput = { asset: update.asset };
  await signalWithStart(client, WorkflowTypes.assetRecord, {
    workflowId: assetRecordWorkflowId(update.asset),
    taskQueue,
    args: [record],
    signal: Signals.assetUpdated,
    signalArgs: [update],
  });
  const consumers: AssetAnnouncement['consumers'] = [];
  for (const dag of consumersOf(dags, update.asset)) {
    let run: { key: string; ds: string };
    try {
      run = assetRunKey(dag, update.partition);
    } catch (err) {
      consumers.push({ dagId: dag.dagId, refused: (err as Error).message });
      continue;
    }
    const consumer = assetConsumer(dag, taskQueue);
    const watcher: AssetWatcherInput = { dagId: dag.dagId };
    const signal: AssetUpdateForConsumer = { update, consumer, key: run.key, ds: run.ds };
    await signalWithStart(client, WorkflowTypes.assetWatcher, {
      workflowId: assetWatcherWorkflowId(dag.dagId),
      taskQueue: consumer.taskQueue,
      args: [watcher],
      signal: Signals.assetUpdated,
      signalArgs: [signal],
    });
    consumers.push({ dagId: dag.dagId, key: run.key });
  }
  return { asset: update.asset, partition: update.partition, consumers };
}

/**
 * Signal-with-start, once more when another start of the same workflow won the race (two updates
 * at once, before it ran): the second try finds it and signals it.
 */
async function signalWithStart(
  client: Client,
  workflowType: string,
  options: WithWorkflowArgs<(input: unknown) => Promise<void>, WorkflowSignalWithStartOptions<[unknown]>>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.workflow.signalWithStart(workflowType, options);
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || attempt >= 3) throw err;
    }
  }
}

/** An asset as the project's DAG files see it: the tasks that update it and the DAGs it schedules. */
export interface ProjectAsset {
  asset: string;
  producers: Array<{ dagId: string; taskId: string }>;
  consumers: Array<{ dagId: string; condition: string }>;
}

/** Every asset the DAG files name, by name: as an outlet of a task, or in a DAG's condition. */
export function projectAssets(files: readonly Pick<LoadedDag, 'dag'>[]): Map<string, ProjectAsset> {
  const assets = new Map<string, ProjectAsset>();
  const entry = (asset: string) => assets.get(asset) ?? assets.set(asset, { asset, producers: [], consumers: [] }).get(asset)!;
  for (const { dag } of files) {
    for (const task of dag.tasks) for (const asset of task.definition.outlets ?? []) entry(asset).producers.push({ dagId: dag.dagId, taskId: task.taskId });
    const condition = dag.definition.assets;
    if (condition) for (const asset of assetsIn(condition)) entry(asset).consumers.push({ dagId: dag.dagId, condition: formatAssetExpression(condition) });
  }
  return assets;
}

/** An asset as `baton assets list` shows it: its producers and consumers, and its last update (none yet: undefined). */
export interface AssetListing extends ProjectAsset {
  lastUpdate?: AssetUpdate;
  updates: number;
}

/**
 * Every asset of the project's DAG files and every asset updated on this namespace (one emitted
 * by an external system may be named by no DAG file), with its last update, read from its
 * record's memo: no worker needs to be running.
 */
export async function listAssets(
  client: Client,
  files: readonly Pick<LoadedDag, 'dag'>[],
  /** The assets with a record: all of the namespace's by default (a visibility query). */
  updated?: readonly string[],
): Promise<AssetListing[]> {
  const known = projectAssets(files);
  const names = new Set([...known.keys(), ...(updated ?? (await recordedAssets(client)))]);
  const listed: AssetListing[] = [];
  for (const asset of [...names].sort()) {
    let memo: Partial<AssetRecordMemo> = {};
    try {
      memo = ((await client.workflow.getHandle(assetRecordWorkflowId(asset)).describe()).memo ?? {}) as Partial<AssetRecordMemo>;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    listed.push({
      ...(known.get(asset) ?? { asset, producers: [], consumers: [] }),
      ...(memo.lastUpdate ? { lastUpdate: memo.lastUpdate } : {}),
      updates: memo.count ?? 0,
    });
  }
  return listed;
}

/** The assets that have a record on this namespace: every asset ever updated (and not since terminated). */
export async function recordedAssets(client: Client): Promise<string[]> {
  const names: string[] = [];
  const prefix = assetRecordWorkflowId('');
  for await (const record of client.workflow.list({ query: `WorkflowType = '${WorkflowTypes.assetRecord}' AND ExecutionStatus = 'Running'` }))
    if (record.workflowId.startsWith(prefix)) names.push(record.workflowId.slice(prefix.length));
  return names;
}

/** Where an update came from, as the CLI shows it: the task of a DAG run, or `baton assets emit`. */
export function sourceText(update: AssetUpdate): string {
  return update.source.kind === 'task' ? `${update.source.workflowId} (task ${update.source.taskId})` : `baton assets emit by ${update.source.by}`;
}

/** What `baton dags validate` finds in the assets of the project's DAGs, by dag_id. */
export interface AssetFindings {
  /** Never right: an update that can never start its consumer, a loop of DAGs starting each other. */
  problems: string[];
  /** Maybe right: an asset only an external system (`baton assets emit`) updates. */
  warnings: string[];
}

/**
 * The assets of the project's DAGs checked together: each asset a DAG is scheduled on that no
 * DAG updates (a warning: an external system may announce it with `baton assets emit`); a
 * producer whose partitions cannot name the consumer's runs (ts partitions of a sub-daily DAG
 * for a DAG with a daily cron, or the reverse: its updates would never start it); and DAGs that
 * start each other through their assets (each run would start the next, for ever).
 */
export function checkProjectAssets(files: readonly Pick<LoadedDag, 'dag'>[]): Map<string, AssetFindings> {
  const findings = new Map(files.map(({ dag }) => [dag.dagId, { problems: [], warnings: [] } as AssetFindings]));
  const assets = projectAssets(files);
  const byId = new Map(files.map(({ dag }) => [dag.dagId, dag.definition]));
  /** What a DAG's runs, and so the partitions it updates, are named by; none for a DAG on assets alone (its partitions are its updates'). */
  const naming = (dag: DagDefinition) => (dag.schedule === null ? undefined : isSubDaily(dag) ? 'ts' : 'ds');
  for (const { dag } of files) {
    const condition = dag.definition.assets;
    if (!condition) continue;
    const own = findings.get(dag.dagId)!;
    for (const asset of assetsIn(condition)) {
      const producers = [...new Set(assets.get(asset)!.producers.map((p) => p.dagId))];
      if (!producers.length) own.warnings.push(`schedule: no DAG of this project updates ${asset}; only an external system can (baton assets emit)`);
      const wanted = naming(dag.definition);
      for (const producer of producers) {
        const given = naming(byId.get(producer)!);
        if (wanted && given && wanted !== given)
          own.problems.push(
            `schedule: ${asset} is updated by ${producer}, whose partitions are its runs' ${given}, but ${dag.dagId}'s runs are named by ${wanted} (${dag.definition.schedule}): its updates would never start a run`,
          );
      }
    }
  }
  // DAG -> the DAGs its outlets schedule; a cycle (a DAG on its own outlets is named by compile) loops for ever.
  const next = new Map<string, string[]>();
  for (const { producers, consumers } of assets.values())
    for (const p of producers) for (const c of consumers) if (p.dagId !== c.dagId) next.set(p.dagId, [...(next.get(p.dagId) ?? []), c.dagId]);
  const reported = new Set<string>();
  for (const start of next.keys()) {
    const cycle = findCycle(start, next);
    if (!cycle) continue;
    const key = [...cycle].sort().join(',');
    if (reported.has(key)) continue;
    reported.add(key);
    for (const dagId of new Set(cycle))
      findings.get(dagId)!.problems.push(`assets: ${[...cycle, cycle[0]].join(' -> ')} start each other through their outlets: each run would start the next`);
  }
  return findings;
}

/** A cycle through `start` in the graph, as the DAGs along it, or undefined. */
function findCycle(start: string, next: ReadonlyMap<string, string[]>): string[] | undefined {
  const visit = (at: string, path: string[]): string[] | undefined => {
    for (const to of new Set(next.get(at) ?? [])) {
      if (to === start) return path;
      if (path.includes(to)) continue;
      const found = visit(to, [...path, to]);
      if (found) return found;
    }
    return undefined;
  };
  return visit(start, [start]);
}
