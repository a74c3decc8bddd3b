/** The assets' workflow tests' bundle: Baton's asset workflows and backfill, and the DAG files of assets-dags.ts. */
import { registerDagFiles } from '../../workflows/dag-registry';
import { ASSET_DAGS } from './assets-dags';

export { assetRecord, assetWatcher } from '../../workflows/assets';
export { dagBackfill } from '../../workflows/backfill';
export { dagFileWorkflow as default } from '../../workflows/dag-registry';

registerDagFiles(ASSET_DAGS);
