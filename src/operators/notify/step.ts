/** The `notify` operator's step: its subject and body rendered, then Baton's alert mail (a few quick tries, whatever the task's retries). */
import { render } from '../../sdk/templates';
import { alerts } from '../../../workflows/task-options';
import type { OperatorStep } from '../steps';

export const notifyStep: OperatorStep<'notify'> = (definition, { dag, task, run, ctx }) =>
  alerts.sendAlert.executeWithOptions({ summary: `${task.taskId}: mail to ${definition.to.join(', ')}` }, [
    { dagId: dag.dagId, ds: run.ds, to: [...definition.to], subject: render(definition.subject, ctx), body: render(definition.body, ctx) },
  ]);
