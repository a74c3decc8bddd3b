/**
 * The DAG the safe-deploy test changes while runs are in flight: wait_for_file >> load, then
 * (v2) an audit task added between them. Each version's workflows/ lives beside this file.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { DagRunInput, TaskRecord } from '../../src/contracts';
import type { DagPolicy, DagRunContext } from '../../workflows/dag';
import { fileSensor } from '../../workflows/sensors';

export const DEPLOY_DEMO: DagPolicy = {
  dagId: 'deploy_demo',
  description: 'the DAG the safe-deploy test changes under a waiting run',
  schedule: '0 6 * * *',
  timezone: 'UTC',
  timetable: 'interval',
  startDate: '2024-01-01',
  maxActiveRuns: null,
  tags: ['test'],
  defaultArgs: { owner: 'tests', dependsOnPast: false, email: [], emailOnFailure: false, emailOnRetry: false, retries: 0, retryDelay: '1s' },
};

export type DeployDemoInput = DagRunInput;
export type DeployDemoResult = TaskRecord[];

export const noop = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 1 } });

/** deploy/<ds>.ready under the data directory, checked every second (reschedule: no slot held). */
export const waitForFile = (run: DagRunContext) =>
  fileSensor({ pathTemplate: 'deploy/{{ ds }}.ready', settle: '0s' }, { mode: 'reschedule', pokeInterval: '1s', timeout: '10m' }, run);
