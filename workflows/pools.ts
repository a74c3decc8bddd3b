/**
 * Pools and their slot keepers. One long-lived keeper per pool (`baton-pool-<pool>`) hands
 * out slots: to whole runs for a DAG's max_active_runs, to tasks of any DAG for a named pool.
 *
 * Slots are held by run, never by workflow id alone. A request gets a token (from the request
 * activity, so it is in the run's history: a reset run keeps it); the keeper grants by token and
 * checks a holder by (workflow id, run id), and the run carries what it holds in search
 * attributes (BatonPools, BatonSlots). So a terminated run's slot is freed as soon as another
 * run waits, a reset run keeps its own, and a keeper that was terminated or restarted rebuilds
 * its holders from a visibility query before it grants anything. Waiting runs send their
 * request again now and then, so a restarted keeper learns of them too.
 */
import { type Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { poolWorkflowId, SearchAttributeKeys, type PoolGrant, type PoolHolder } from '../src/contracts';
import { slotEntry } from '../src/pools';
import { acquirePoolSlot, poolSlotGranted, releasePoolSlot as releasePoolSlotSignal } from './signals';
import { bookkeeping } from './task-options';

export interface PoolSlotsInput {
  pool: string;
  capacity?: number;
  holders?: PoolHolder[];
  waiters?: PoolHolder[];
  /** Continued as new: the holders are known, no rebuild. */
  rebuilt?: boolean;
}

/** How long slots may stay full with requests waiting before the keeper checks its holders. */
const LEAK_CHECK = '1 minute';
/** A new request finding the pool full checks the holders at once, at most this often. */
const ARRIVAL_CHECK_MS = 5_000;
/** Requests arriving together (a catchup) are gathered this long so the oldest date goes first. */
const GATHER_MS = 1000;

const byPriorityThenDate = (a: PoolHolder, b: PoolHolder) => b.priority - a.priority || (a.ds < b.ds ? -1 : a.ds > b.ds ? 1 : 0);

export async function poolSlots(input: PoolSlotsInput): Promise<void> {
  const { pool } = input;
  let capacity = input.capacity ?? 1;
  const holders = new Map((input.holders ?? []).map((h) => [h.token, h]));
  const waiters = [...(input.waiters ?? [])];
  const regrant = new Set<string>();
  const used = () => [...holders.values()].reduce((n, h) => n + h.slots, 0);
  const fits = (h: PoolHolder) => h.slots <= capacity - used();
  let changed = true;
  let lastArrival = 0;
  let lastCheck = 0;
  let check = false;

  setHandler(acquirePoolSlot, (request) => {
    capacity = request.capacity;
    const holder = { ...request.holder, token: request.token ?? request.holder.token };
    const held = holders.get(holder.token);
    if (held) {
      // A re-request of a slot it holds (it may have missed the grant): tell it again.
      held.runId = holder.runId;
      regrant.add(holder.token);
    } else {
      const i = waiters.findIndex((w) => w.token === holder.token);
      if (i >= 0) waiters[i] = holder;
      else {
        waiters.push(holder);
        lastArrival = Date.now();
        if (!fits(holder) && Date.now() - lastCheck >= ARRIVAL_CHECK_MS) check = true;
      }
    }
    changed = true;
  });
  setHandler(releasePoolSlotSignal, ({ token }) => {
    holders.delete(token);
    regrant.delete(token);
    const i = waiters.findIndex((w) => w.token === token);
    if (i >= 0) waiters.splice(i, 1);
    changed = true;
  });

  if (!input.rebuilt) {
    // A new keeper (first start, or after it was terminated): who holds slots already?
    const { holders: found } = await bookkeeping.poolHolders({ pool });
    for (const h of found) {
      if (holders.has(h.token)) continue;
      holders.set(h.token, h);
      const i = waiters.findIndex((w) => w.token === h.token);
      if (i >= 0) holders.set(h.token, waiters.splice(i, 1)[0]);
    }
    if (found.length)
      log.warn('pool keeper started while runs held slots: rebuilt its holders from their search attributes', {
        pool,
        holders: found.map((h) => h.workflowId),
      });
  }

  for (;;) {
    changed = false;
    if (check) {
      check = false;
      lastCheck = Date.now();
      if (holders.size) await dropEndedHolders(pool, holders);
    }
    for (const w of waiters) {
      if (w.slots > capacity)
        log.error('pool: a request wants more slots than the pool has; it waits until the pool is made larger', {
          pool,
          capacity,
          workflowId: w.workflowId,
          slots: w.slots,
        });
    }
    const sinceArrival = Date.now() - lastArrival;
    if (waiters.some((w) => !w.ordered && fits(w)) && sinceArrival < GATHER_MS) await sleep(GATHER_MS - sinceArrival);
    waiters.sort(byPriorityThenDate);
    for (const next of [...waiters]) {
      if (!fits(next)) continue;
      waiters.splice(waiters.indexOf(next), 1);
      holders.set(next.token, next);
      await grant(next).catch(() => holders.delete(next.token)); // the run is gone: the slot goes on
    }
    for (const token of regrant) {
      const h = holders.get(token);
      if (h) await grant(h).catch(() => undefined);
    }
    regrant.clear();
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5_000) {
      await continueAsNew<typeof poolSlots>({ pool, capacity, holders: [...holders.values()], waiters, rebuilt: true });
    }
    const starved = waiters.length > 0 && holders.size > 0;
    const woke = await condition(() => changed || check, starved ? LEAK_CHECK : '1 day');
    if (!woke && holders.size) check = true;
  }

  function grant(h: PoolHolder): Promise<void> {
    return getExternalWorkflowHandle(h.workflowId, h.runId).signal(poolSlotGranted, { pool, token: h.token });
  }
}

/** Drops holders whose run ended without releasing (terminated, timed out); follows a reset run to its new run id. */
async function dropEndedHolders(pool: string, holders: Map<string, PoolHolder>): Promise<void> {
  const asked = [...holders.values()].map(({ workflowId, runId, token }) => ({ workflowId, runId, token }));
  const { holders: alive } = await bookkeeping.holderLiveness({ holders: asked });
  for (const { workflowId, runId, token } of asked) {
    const holder = holders.get(token);
    if (!holder || !(token in alive)) continue; // released meanwhile
    const now = alive[token];
    if (now === null) {
      log.warn('pool: dropping the slot of a run that ended without releasing it', { pool, workflowId, runId });
      holders.delete(token);
    } else if (now !== runId) {
      log.info('pool: the slot now belongs to the run that replaced its holder (a reset)', { pool, workflowId, from: runId, to: now });
      holder.runId = now;
    }
  }
}

// ---- the runs' side -------------------------------------------------------------------------

/** Per run (workflow module state is per execution): the grants received and the slots held. */
const granted = new Set<string>();
const held = new Map<string, { pool: string; slots: number }>();
let listening = false;

function publishHeld(): void {
  const entries = [...held.entries()].map(([token, { pool, slots }]) => slotEntry(pool, token, slots));
  const names = [...new Set([...held.values()].map((h) => h.pool))];
  upsertSearchAttributes([
    { key: SearchAttributeKeys.pools, value: names.length ? names : null },
    { key: SearchAttributeKeys.slots, value: entries.length ? entries : null },
  ]);
}

export interface SlotWanted {
  pool: string;
  capacity: number;
  slots: number;
  priority: number;
  ds: string;
  taskId?: string;
  ordered?: boolean;
  /** How often a waiting run sends its request again. */
  refresh: Duration;
  summary: string;
}

/** Queues at the pool's keeper and waits for the grant; the slot is then in the run's search attributes. */
export async function takePoolSlot(wanted: SlotWanted): Promise<PoolGrant> {
  if (!listening) {
    listening = true;
    setHandler(poolSlotGranted, ({ token }) => void granted.add(token));
  }
  const { pool, capacity, slots, priority, ds, taskId, ordered, refresh, summary } = wanted;
  if (!(slots >= 1 && slots <= capacity)) {
    throw ApplicationFailure.nonRetryable(`${taskId ?? 'the run'} wants ${slots} slot(s) of pool ${pool}, which has ${capacity}`, 'PoolTooSmall');
  }
  const holder = (): PoolHolder => ({
    workflowId: workflowInfo().workflowId,
    runId: workflowInfo().runId,
    token: '',
    ds,
    slots,
    priority,
    ...(taskId ? { taskId } : {}),
    ...(ordered ? { ordered } : {}),
  });
  const { token } = await bookkeeping.requestPoolSlot.executeWithOptions({ summary }, [{ pool, capacity, holder: holder() }]);
  while (!(await condition(() => granted.has(token), refresh))) {
    // Still waiting: ask again with the same token (a keeper that was restarted learns of this run).
    await bookkeeping.requestPoolSlot.executeWithOptions({ summary: `${summary} (still waiting)` }, [
      { pool, capacity, token, holder: { ...holder(), token } },
    ]);
  }
  held.set(token, { pool, slots });
  publishHeld();
  return { pool, token };
}

/** Gives the slot back (also when the run is being cancelled). */
export async function releasePoolSlot(grant: PoolGrant): Promise<void> {
  held.delete(grant.token);
  granted.delete(grant.token);
  await CancellationScope.nonCancellable(async () => {
    publishHeld();
    try {
      await getExternalWorkflowHandle(poolWorkflowId(grant.pool)).signal(releasePoolSlotSignal, grant);
    } catch {
      // No keeper is running (it was terminated): the next one rebuilds from search attributes, which no longer list this slot.
      log.warn('pool: no keeper to give the slot back to; the next keeper will not count it', { pool: grant.pool });
    }
  });
}
