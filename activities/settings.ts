import type { Config } from '../src/config';
import type { RunSettings } from '../src/contracts';

/** See RunSettings.protocol. */
export const RUN_PROTOCOL = 2;

export interface SettingsDeps {
  config: Pick<Config, 'retry' | 'dbt' | 'dependsOnPastPoll' | 'slotRefresh' | 'sensors' | 'heartbeatTimeout'>;
}

/**
 * Worker configuration a run needs, read once by a local activity so the values are
 * recorded in the run's history and replay sees the same ones.
 */
export function createSettingsActivities({ config }: SettingsDeps) {
  async function runSettings(): Promise<RunSettings> {
    return {
      ...(config.retry.retryDelay ? { retryDelay: config.retry.retryDelay } : {}),
      ...(config.retry.maximumAttempts ? { maximumAttempts: config.retry.maximumAttempts } : {}),
      dbtTarget: config.dbt.target,
      protocol: RUN_PROTOCOL,
      ...(config.dependsOnPastPoll ? { dependsOnPastPoll: config.dependsOnPastPoll } : {}),
      ...(config.slotRefresh ? { slotRefresh: config.slotRefresh } : {}),
      ...(config.sensors.pokeInterval ? { sensorPokeInterval: config.sensors.pokeInterval } : {}),
      ...(config.sensors.timeout ? { sensorTimeout: config.sensors.timeout } : {}),
      ...(config.sensors.fileSettle ? { fileSettle: config.sensors.fileSettle } : {}),
      ...(config.heartbeatTimeout ? { heartbeatTimeout: config.heartbeatTimeout } : {}),
    };
  }
  return { runSettings };
}
