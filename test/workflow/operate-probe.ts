/** The workflow bundle of operate.test.ts: its DAG files (operate-dags.ts), registered, and the batch workflow of mapped tasks. */
import { registerDagFiles } from '../../workflows/dag-registry';
import { approvals, clearEtl, clearHourly, clearMapped } from './operate-dags';

export { dagFileWorkflow as default } from '../../workflows/dag-registry';
export { mappedTaskBatch } from '../../workflows/mapped';

registerDagFiles([clearEtl, clearMapped, approvals, clearHourly]);
