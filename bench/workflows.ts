/** The worker's workflows plus the benchmarks' own instruments. */
export * from '../workflows';
import { fileSensor, type SensorOptions, type SensorOutcome } from '../workflows/sensors';

/** One sensor waiting for a file under the data directory, outside any DAG: what 200 waiting sensors cost. */
export async function benchSensor(input: { path: string; options: SensorOptions }): Promise<SensorOutcome> {
  const interval = { ds: '2024-01-01', dataIntervalStart: '2024-01-01T00:00:00Z', dataIntervalEnd: '2024-01-02T00:00:00Z' };
  return fileSensor({ pathTemplate: input.path, settle: '0s' }, input.options, { interval, settings: { dbtTarget: 'dev' } });
}
