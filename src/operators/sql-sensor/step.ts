/** The `sqlSensor` operator's step: the workflows' SQL sensor (workflows/sensors.ts) on its parameterized query, in its mode. */
import { parameterize } from '../../sdk/templates';
import { sqlSensorQuery } from '../../../workflows/sensors';
import { sensorOptions, sensorOutput } from '../sensor-step';
import type { OperatorStep } from '../steps';

export const sqlSensorStep: OperatorStep<'sqlSensor'> = async (definition, { run, ctx }) => {
  const { text, values } = parameterize(definition.sql, ctx);
  const outcome = await sqlSensorQuery(
    { connId: definition.conn, text, params: values.map((v) => (v === null || v === undefined ? v : String(v))) as string[] },
    sensorOptions(definition, 'reschedule'),
    run,
  );
  return sensorOutput(outcome);
};
