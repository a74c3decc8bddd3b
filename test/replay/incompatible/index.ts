/**
 * orders_daily_etl with a task added in front of the others *without* `patched()`: the change a
 * deploy must never ship while runs are in flight. Replaying its histories against it must
 * raise DeterminismViolationError.
 */
import dagFile from '../../../workflows/dags/orders_daily_etl/dag';
import { registerDagFiles } from '../../../workflows/dag-registry';
import type { TaskDefinition } from '../../../src/sdk/types';

const { tasks } = dagFile;
const audit: TaskDefinition = { operator: 'command', argv: ['true'] };
registerDagFiles([
  {
    ...dagFile,
    tasks: {
      audit_first: audit,
      ...Object.fromEntries(Object.entries(tasks).map(([id, task]) => [id, { ...task, upstream: [...(task.upstream ?? []), 'audit_first'] }])),
    },
  },
]);
export { dagFileWorkflow as default } from '../../../workflows/dag-registry';
