/**
 * Data-aware scheduling (Airflow 3's assets, with partitions). A task's outlets are announced
 * when it succeeds (announceOutlets, an activity: retried safely, each update counted once by
 * its id). Each DAG scheduled on assets has one watcher, `baton-assets-<dag_id>`, fed by
 * signal-with-start: it keeps, per partition, the assets updated for it, and when the DAG's
 * condition is met starts the run `<dag_id>-<partition>` once, then forgets the partition (as
 * Airflow does, the DAG then waits for new updates). Updates arrive one at a time through the
 * watcher, however many race in, so one condition met starts one run. Each asset has a record,
 * `baton-asset-<name>`, of its last updates, for `baton assets list`. Both continue as new to keep
 * their histories small, carrying their state.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  ParentClosePolicy,
  setHandler,
  startChild,
  upsertMemo,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import {
  Queries,
  Signals,
  type AssetConsumer,
  type AssetRecordInput,
  type AssetRecordMemo,
  type AssetRecordState,
  type AssetTriggeredRun,
  type AssetUpdate,
  type AssetUpdateForConsumer,
  type AssetWatcherInput,
  type AssetWatcherState,
  type PendingPartition,
} from '../src/contracts';
import { dagRunWorkflowId, runInputFor } from '../src/dags';
import type { CompiledDag, CompiledTask } from '../src/sdk/compile';
import { evaluateAssets } from '../src/sdk/assets';
import type { DagRunContext } from './dag';
import { bookkeeping } from './task-options';

/** An update, as a consumer's watcher gets it. */
export const assetUpdatedForConsumer = defineSignal<[AssetUpdateForConsumer]>(Signals.assetUpdated);
/** An update, as the asset's record gets it. */
export const assetUpdated = defineSignal<[AssetUpdate]>(Signals.assetUpdated);
export const assetWatcherQuery = defineQuery<AssetWatcherState>(Queries.assetWatcher);
export const assetUpdatesQuery = defineQuery<AssetRecordState>(Queries.assetUpdates);

/** Updates handled per history before continuing as new. */
const UPDATES_PER_RUN = 500;
/** Ids of updates kept to recognise one announced again (a retried announcement comes within minutes). */
const SEEN_KEPT = 2000;
/** Runs a watcher remembers for its query; updates a record keeps. */
const RUNS_KEPT = 50;
const UPDATES_KEPT = 20;

const keepLast = <T>(list: T[], n: number) => list.splice(0, Math.max(0, list.length - n));

/**
 * A successful task's outlets: an update of each for the run's partition (its key), announced
 * once. A test run (`baton dags test`, `runDagTest`) announces nothing: it must not start the
 * project's DAGs.
 */
export async function announceOutlets(dag: CompiledDag, task: CompiledTask, run: DagRunContext): Promise<void> {
  const outlets = task.definition.outlets ?? [];
  if (!outlets.length || run.test) return;
  await bookkeeping.announceAssetUpdates.executeWithOptions({ summary: `${task.taskId}: ${outlets.join(', ')} updated for ${run.key}` }, [
    { dagId: dag.dagId, taskId: task.taskId, partition: run.key, assets: [...outlets] },
  ]);
}

/** The watcher of a DAG scheduled on assets: one per DAG, for ever, continuing as new with its state. */
export async function assetWatcher(input: AssetWatcherInput): Promise<void> {
  const state: AssetWatcherState = input.state ?? { pending: [], runs: [], seen: [], received: 0 };
  const inbox: AssetUpdateForConsumer[] = [];
  setHandler(assetUpdatedForConsumer, (update) => void inbox.push(update));
  setHandler(assetWatcherQuery, () => state);
  const perRun = input.updatesPerRun ?? UPDATES_PER_RUN;
  let handled = 0;
  for (;;) {
    await condition(() => inbox.length > 0);
    while (inbox.length) {
      receive(state, inbox.shift()!);
      handled++;
    }
    await startMet(input.dagId, state);
    // Nothing received since the last look: no update is left behind in this history.
    if (inbox.length === 0 && (handled >= perRun || workflowInfo().continueAsNewSuggested)) break;
  }
  await continueAsNew<typeof assetWatcher>({ ...input, state });
}

/** Files an update under its partition (once: an update announced again is recognised by its id). */
function receive(state: AssetWatcherState, { update, consumer, key, ds }: AssetUpdateForConsumer): void {
  if (state.seen.includes(update.id)) return;
  state.seen.push(update.id);
  keepLast(state.seen, SEEN_KEPT);
  state.received++;
  state.consumer = consumer; // the DAG file as the latest sender loaded it
  let partition = state.pending.find((p) => p.key === key);
  if (!partition) state.pending.push((partition = { key, ds, updates: {} }));
  partition.updates[update.asset] = update;
}

/** Starts the run of each partition whose condition is met, oldest first, and forgets the partition. */
async function startMet(dagId: string, state: AssetWatcherState): Promise<void> {
  const consumer = state.consumer;
  if (!consumer) return;
  for (const partition of [...state.pending]) {
    if (!evaluateAssets(consumer.condition, new Set(Object.keys(partition.updates)))) continue;
    // Forgotten before the start: updates arriving meanwhile make a new wait (Airflow's queue, emptied by the run).
    state.pending.splice(state.pending.indexOf(partition), 1);
    const outcome = await startRun(consumer, partition);
    const assets = Object.values(partition.updates).map((u) => `${u.asset}@${u.partition}`);
    state.runs.push({ key: partition.key, workflowId: dagRunWorkflowId(dagId, partition.key), outcome, at: new Date().toISOString(), assets });
    keepLast(state.runs, RUNS_KEPT);
    log.info(outcome === 'started' ? 'assets updated: run started' : 'assets updated: the run of this partition is in flight, joined', {
      dagId,
      partition: partition.key,
      assets,
    });
  }
}

/**
 * The partition's run, started as a child that outlives the watcher (ABANDON: continuing as new
 * closes the watcher's run). A run of that id in flight (its schedule's, a manual one, one
 * started for earlier updates) is the partition's run: joined, never doubled. A finished one is
 * run again: these updates came after it (a rerun replaces its partition).
 */
async function startRun(consumer: AssetConsumer, partition: PendingPartition): Promise<AssetTriggeredRun['outcome']> {
  try {
    await startChild(consumer.workflowType, {
      workflowId: dagRunWorkflowId(consumer.dagId, partition.key),
      taskQueue: consumer.taskQueue,
      args: [{ ...consumer.runArgs, ...runInputFor(partition.key) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      memo: { assetTriggered: { watcher: workflowInfo().workflowId, updates: Object.values(partition.updates).map((u) => u.id) } },
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'joined';
    throw err;
  }
}

/** An asset's record of its last updates: one per asset, for ever, its last update in its memo. */
export async function assetRecord(input: AssetRecordInput): Promise<void> {
  const state: AssetRecordState = input.state ?? { updates: [], count: 0, seen: [] };
  const inbox: AssetUpdate[] = [];
  setHandler(assetUpdated, (update) => void inbox.push(update));
  setHandler(assetUpdatesQuery, () => state);
  const memo = () => upsertMemo({ lastUpdate: state.updates.at(-1)!, count: state.count } satisfies AssetRecordMemo);
  // A run continued as new starts with the memo its first start had.
  if (state.updates.length) memo();
  const perRun = input.updatesPerRun ?? UPDATES_PER_RUN;
  let handled = 0;
  for (;;) {
    await condition(() => inbox.length > 0);
    let changed = false;
    while (inbox.length) {
      const update = inbox.shift()!;
      handled++;
      if (state.seen.includes(update.id)) continue;
      state.seen.push(update.id);
      keepLast(state.seen, SEEN_KEPT);
      state.updates.push(update);
      keepLast(state.updates, UPDATES_KEPT);
      state.count++;
      changed = true;
    }
    if (changed) memo();
    if (handled >= perRun || workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof assetRecord>({ ...input, state });
}
