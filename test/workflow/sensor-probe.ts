/** A workflow that runs one file sensor: the sensor toolkit under test, outside any DAG. */
import type { RunSettings } from '../../src/contracts';
import type { DataInterval } from '../../src/timetable';
import { fileSensor, sqlSensor, type FileSensorSpec, type SensorOptions, type SensorOutcome, type SqlSensorSpec } from '../../workflows/sensors';

export async function sensorProbe(
  spec: FileSensorSpec,
  options: SensorOptions,
  interval: DataInterval,
  settings: RunSettings = { dbtTarget: 'dev' },
): Promise<SensorOutcome> {
  return fileSensor(spec, options, { interval, settings });
}

export async function sqlSensorProbe(spec: SqlSensorSpec, options: SensorOptions, interval: DataInterval): Promise<SensorOutcome> {
  return sqlSensor(spec, options, { interval, settings: { dbtTarget: 'dev' } });
}
