/**
 * max_active_runs, for scheduled, manual and backfill runs alike: one long-lived keeper per
 * DAG hands out run slots. Runs queue by logical date (oldest first, as Airflow's scheduler
 * does), and a run that ended without giving its slot back (terminated) is found and dropped.
 */
import { condition, continueAsNew, defineSignal, getExternalWorkflowHandle, log, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { Signals, type SlotHolder, type SlotRequest } from '../src/contracts';
import { releaseRunSlot, runSlotGranted } from './signals';
import { bookkeeping } from './task-options';

export interface DagRunSlotsInput {
  dagId: string;
  capacity?: number;
  holders?: SlotHolder[];
  waiters?: SlotHolder[];
}

export const acquireSlot = defineSignal<[SlotRequest]>(Signals.acquireSlot);

/** How long slots may stay full with runs waiting before the keeper checks its holders are alive. */
const LEAK_CHECK = '1 minute';

/**
 * Runs started together (a catchup) reach the keeper in whatever order their workers got to
 * them; gathering them this long before granting lets the oldest date go first. A backfill's
 * runs come in date order already and are not held back (it was a second per run).
 */
const GATHER_MS = 1000;

export async function dagRunSlots(input: DagRunSlotsInput): Promise<void> {
  let capacity = input.capacity ?? 1;
  const holders = new Map((input.holders ?? []).map((h) => [h.runId, h]));
  const waiters = [...(input.waiters ?? [])];
  let changed = true;
  let lastArrival = 0;

  setHandler(acquireSlot, (request) => {
    capacity = request.capacity;
    const { holder } = request;
    // A retried request activity may signal twice: one place per run.
    if (!holders.has(holder.runId) && !waiters.some((w) => w.runId === holder.runId)) waiters.push(holder);
    lastArrival = Date.now();
    changed = true;
  });
  setHandler(releaseRunSlot, ({ runId }) => {
    holders.delete(runId);
    const i = waiters.findIndex((w) => w.runId === runId);
    if (i >= 0) waiters.splice(i, 1);
    changed = true;
  });

  for (;;) {
    changed = false;
    const sinceArrival = Date.now() - lastArrival;
    // Keepers are long-lived: ones started before the gathering existed replay without it.
    // Only backfill runs carry `ordered`, and keepers replaying from before it never saw one.
    const unordered = waiters.some((w) => !w.ordered);
    if (holders.size < capacity && unordered && sinceArrival < GATHER_MS && patched('slots-gather-before-grant')) {
      await sleep(GATHER_MS - sinceArrival);
    }
    waiters.sort((a, b) => (a.ds < b.ds ? -1 : a.ds > b.ds ? 1 : 0));
    while (holders.size < capacity && waiters.length) {
      const next = waiters.shift()!;
      holders.set(next.runId, next);
      try {
        await getExternalWorkflowHandle(next.workflowId, next.runId).signal(runSlotGranted, { workflowId: next.workflowId, runId: next.runId });
      } catch {
        holders.delete(next.runId); // the run is gone: give the slot to the next one
      }
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5_000) {
      await continueAsNew<typeof dagRunSlots>({ dagId: input.dagId, capacity, holders: [...holders.values()], waiters });
    }
    const starved = holders.size >= capacity && waiters.length > 0;
    const woke = await condition(() => changed, starved ? LEAK_CHECK : '1 day');
    if (!woke && holders.size) await dropEndedHolders(holders);
  }
}

async function dropEndedHolders(holders: Map<string, SlotHolder>): Promise<void> {
  const byWorkflow = new Map([...holders.values()].map((h) => [h.workflowId, h]));
  const { statuses } = await bookkeeping.runStatuses({ workflowIds: [...byWorkflow.keys()] });
  for (const [workflowId, status] of Object.entries(statuses)) {
    const holder = byWorkflow.get(workflowId)!;
    if (status !== 'RUNNING') {
      log.warn('max_active_runs: dropping the slot of a run that ended without releasing it', { workflowId, status });
      holders.delete(holder.runId);
    }
  }
}
