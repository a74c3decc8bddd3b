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
  try {
    ds = waitedLogicalDate(rendered, definition.shift);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${base.taskId}: ${(err as Error).message}`, 'InvalidLogicalDate');
  }
  const outcome = await dagRunSensor(
    { ...base, dag: definition.dag, runDs: ds, ...(definition.task !== undefined ? { task: definition.task } : {}) },
    sensorOptions(definition, 'reschedule'),
    run,
  );
  if (!outcome.found) return sensorOutput(outcome);
  const output: WaitForDagOutput = { dagId: definition.dag, ds, workflowId: waitedRunId(definition.dag, ds), state: 'success', checks: outcome.checks };
  return output;
};
