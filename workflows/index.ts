export { noopDag } from './noop-dag';
export { scheduledDagRun } from './scheduled';
export { dagRunSlots } from './slots';
export { poolSlots } from './pools';
export { dagBackfill } from './backfill';
export { mappedTaskBatch } from './mapped';
export { assetRecord, assetWatcher } from './assets';
