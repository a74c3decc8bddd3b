/** What the sensors' steps share: Airflow's defaults for a sensor, and what a sensor hands on. Workflow code. */
import type { SensorOptions, SensorOutcome } from '../../workflows/sensors';

/** A sensor's settings with Airflow's defaults: poke every 60 s, for at most 7 days. */
export function sensorOptions(
  definition: { mode?: SensorOptions['mode']; pokeInterval?: string; timeout?: string; softFail?: boolean; exponentialBackoff?: boolean },
  mode: SensorOptions['mode'],
): SensorOptions {
  return {
    mode: definition.mode ?? mode,
    pokeInterval: definition.pokeInterval ?? '60s',
    timeout: definition.timeout ?? '7d',
    softFail: definition.softFail ?? false,
    ...(definition.exponentialBackoff ? { exponentialBackoff: true } : {}),
  };
}

/** What a sensor hands on: its checks, and why it skipped when a soft fail timed out. */
export const sensorOutput = (outcome: SensorOutcome) => (outcome.found ? { checks: outcome.checks } : { checks: outcome.checks, skipped: outcome.reason });
