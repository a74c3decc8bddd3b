/**
 * The `approval` operator's step: says it waits (the task table, a mail to `notify`, the DAG's
 * notifiers), then waits in the workflow for the answer or the timeout's outcome. The engine
 * skips what a rejection or a choice leaves out.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { render } from '../../sdk/templates';
import { alerts } from '../../../workflows/task-options';
import type { OperatorStep } from '../steps';

export const approvalStep: OperatorStep<'approval'> = async (definition, { dag, task, run, ctx }) => {
  if (!run.approvals) throw ApplicationFailure.nonRetryable(`${task.taskId}: an approval task runs in a DAG file's run`, 'DagDefinitionError');
  const wrong = (definition.options ?? []).filter((o) => !task.downstream.includes(o));
  if (wrong.length)
    throw ApplicationFailure.nonRetryable(
      `${task.taskId}: options ${wrong.join(', ')} are not directly downstream of it (${task.downstream.join(', ') || 'none'})`,
      'DagDefinitionError',
    );
  const subject = render(definition.subject, ctx);
  const body = definition.body ? render(definition.body, ctx) : '';
  run.tasks.progress(task.taskId, { waiting: 'for an answer', subject });
  const runFlag = run.key === run.ds ? `--ds ${run.ds}` : `--ts ${run.key}`;
  const how = `baton runs approve ${dag.dagId} ${runFlag} --task ${task.taskId}${definition.options ? ` --choose ${definition.options[0]}` : definition.schema ? " --value '<json>'" : ''} (or reject)`;
  if (definition.notify)
    await alerts.sendAlert.executeWithOptions({ summary: `${task.taskId}: approval waiting, mail to ${definition.notify.join(', ')}` }, [
      {
        dagId: dag.dagId,
        ds: run.key,
        to: [...definition.notify],
        subject: `[${dag.dagId}] ${run.key} ${task.taskId} waits for approval: ${subject}`,
        body: `${body ? `${body}\n\n` : ''}Answer with: ${how}${definition.timeout ? `\nIt waits ${definition.timeout}.` : ''}`,
      },
    ]);
  await run.notify?.('approval', { taskId: task.taskId, state: 'running', message: `waits for approval: ${subject}. Answer with: ${how}` });
  return run.approvals.wait(task.taskId, definition);
};
