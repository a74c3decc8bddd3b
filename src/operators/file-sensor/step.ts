/** The `fileSensor` operator's step: the workflows' file sensor (workflows/sensors.ts) on its rendered path, in its mode. */
import { render } from '../../sdk/templates';
import { fileSensor } from '../../../workflows/sensors';
import { sensorOptions, sensorOutput } from '../sensor-step';
import type { OperatorStep } from '../steps';

export const fileSensorStep: OperatorStep<'fileSensor'> = async (definition, { run, ctx }) => {
  const outcome = await fileSensor(
    { pathTemplate: render(definition.path, ctx), settle: definition.settle ?? '5s' },
    sensorOptions(definition, 'reschedule'),
    run,
  );
  return sensorOutput(outcome);
};
