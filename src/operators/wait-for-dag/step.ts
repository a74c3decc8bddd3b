/**
 * The `waitForDag` operator's step: the logical date of the run waited for (this run's by
 * default) rendered and shifted, then the workflows' DAG run sensor (workflows/sensors.ts) in its mode.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { render } from '../../sdk/templates';
import { dagRunSensor } from '../../../workflows/sensors';
import { sensorOptions, sensorOutput } from '../sensor-step';
import type { OperatorStep } from '../steps';
import type { WaitForDagOutput } from './definition';
import { waitedLogicalDate, waitedRunId } from './run';

export const waitForDagStep: OperatorStep<'waitForDag'> = async (definition, { base, run, ctx }) => {
  const rendered = render(definition.ds ?? '{{ ds }}', ctx);
  let ds: string;
  // Without a ds of its own, a sub-daily DAG's run is named by this run's ts: the activity, which knows that DAG, chooses.
  let ts: string | undefined;
  try {
    ds = waitedLogicalDate(rendered, definition.shift);
    if (definition.ds === undefined) ts = waitedLogicalDate(ctx.ts, definition.shift);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${base.taskId}: ${(err as Error).message}`, 'InvalidLogicalDate');
  }
  const outcome = await dagRunSensor(
    {
      ...base,
      dag: definition.dag,
      runDs: ds,
      ...(ts !== undefined ? { runTs: ts } : {}),
      ...(definition.task !== undefined ? { task: definition.task } : {}),
    },
    sensorOptions(definition, 'reschedule'),
    run,
  );
  if (!outcome.found) return sensorOutput(outcome);
  // The run found, as the check named it (a sub-daily DAG's by its ts).
  const workflowId = outcome.detail ?? waitedRunId(definition.dag, ds);
  const output: WaitForDagOutput = {
    dagId: definition.dag,
    ds: workflowId.slice(definition.dag.length + 1),
    workflowId,
    state: 'success',
    checks: outcome.checks,
  };
  return output;
};
