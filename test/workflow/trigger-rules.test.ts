/**
 * Baton's trigger rules and setup tasks against Airflow's own verdicts: the DAG shapes of
 * trigger-rules-probe.ts run on the engine, and every task ends in the state Airflow gave the
 * task of the same id (test/fixtures/airflow-trigger-rules.json, recorded by running
 * bench/peers/trigger_rules_dag.py with Airflow 3; `npm run bench -- --peers` runs it live).
 */
import assert from '../support/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import type { RunSettings, TaskRecord } from '../../src/contracts';
import type { CommandOperatorInput } from '../../src/operators/command/activity';
import { TRIGGER_RULES } from '../../src/sdk';
import { timeSkippingWorker } from '../support';
import { PAIRS } from './trigger-rules-shapes';

const recorded = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'airflow-trigger-rules.json'), 'utf8')) as {
  airflow: string;
  states: Record<string, string>;
};

/**
 * Where Airflow's verdict depends on which upstream settled first. `airflow dags test` runs one
 * task at a time, and its scheduler settled all_success at the first upstream it saw settle: u1's
 * skip, before u2's cause failed. With both settled, its own rule checks failures before skips
 * (upstream_failed), and that is what Baton gives whichever settles first, so a run ends the same
 * every time.
 */
const SETTLED_BOTH: Record<string, string> = { all_success__skipped__upstream_failed__t: 'upstream_failed' };

const taskQueue = 'trigger-rules';
const server = timeSkippingWorker({
  taskQueue,
  workflowsPath: require.resolve('./trigger-rules-probe'),
  activities: {
    runSettings: async (): Promise<RunSettings> => ({ dbtTarget: 'dev', protocol: 2 }),
    operatorCommand: async ({ argv }: CommandOperatorInput) => {
      if (argv[0] === 'fail') throw ApplicationFailure.retryable('fail exited with 1', 'CommandFailed');
      return { exitCode: 0, tail: '' };
    },
  },
});

test('the recorded table covers every rule Baton has, Airflow 3 has no rule Baton lacks, and every shape', () => {
  assert.match(recorded.airflow, /^3\./);
  const rules = new Set(Object.keys(recorded.states).flatMap((id) => (id.endsWith('__t') ? [id.split('__')[0]] : [])));
  assert.deepEqual([...rules].sort(), [...TRIGGER_RULES].sort());
  assert.equal(Object.keys(recorded.states).filter((id) => id.endsWith('__t')).length, TRIGGER_RULES.length * PAIRS.length);
});

test("every task of every shape ends as Airflow's did: the 13 trigger rules over each pair of upstream outcomes, and setups with their teardowns", async () => {
  const handle = await server.client.workflow.start('engine_trigger_rules', {
    taskQueue,
    workflowId: 'trigger-rules-2024-01-02',
    args: [{ ds: '2024-01-02' }],
  });
  await handle.result().catch(() => undefined); // failed tasks fail the run; the states are what is compared
  const table = await handle.query<TaskRecord[]>('tasks');
  const baton = Object.fromEntries(table.map((t) => [t.taskId, t.state]));
  const airflow = { ...recorded.states, ...SETTLED_BOTH };
  const differ = Object.keys({ ...airflow, ...baton })
    .filter((id) => airflow[id] !== baton[id])
    .map((id) => `${id}: Airflow ${airflow[id] ?? 'no such task'}, Baton ${baton[id] ?? 'no such task'}`);
  assert.deepEqual(differ, []);
  assert.equal(Object.keys(baton).length, 479);
});
