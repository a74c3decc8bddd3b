/**
 * The slot keepers' signals, defined once. A pool keeper (workflows/pools.ts) and a legacy
 * max_active_runs keeper (workflows/slots.ts) answer to the same three names (Signals); what
 * they carry differs: a pool's grant, or the run itself for the keepers started before pools.
 */
import { defineSignal } from '@temporalio/workflow';
import { Signals, type PoolGrant, type PoolSlotRequest, type RunRef } from '../src/contracts';

/** A run asks a pool for slots. */
export const acquirePoolSlot = defineSignal<[PoolSlotRequest]>(Signals.acquireSlot);
/** A run gives its slots back to the pool. */
export const releasePoolSlot = defineSignal<[PoolGrant]>(Signals.releaseSlot);
/** The pool grants a run its slots. */
export const poolSlotGranted = defineSignal<[PoolGrant]>(Signals.slotGranted);

/** Legacy keeper: a run slot granted to the run. */
export const runSlotGranted = defineSignal<[RunRef]>(Signals.slotGranted);
/** Legacy keeper: the run gives its slot back. */
export const releaseRunSlot = defineSignal<[RunRef]>(Signals.releaseSlot);
