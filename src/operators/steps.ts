/**
 * The operators' workflow steps, by name: what one try of a task does inside the DAG's workflow.
 * A step renders its task's settings from the run's templates (so the history shows what ran)
 * and calls its activity, or decides in the workflow (empty, branch, shortCircuit). The engine
 * (workflows/engine.ts, through workflows/operator-steps.ts) owns retries, callbacks and the task
 * table around it. Runs in Temporal's workflow sandbox: it imports @temporalio/workflow, the
 * workflows' toolkit and pure modules, and activities as types only.
 */
import type { ActivityInterfaceFor } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { CompiledDag, CompiledTask } from '../sdk/compile';
import type { RunContext } from '../sdk/types';
import type { DagRunContext } from '../../workflows/dag';
import type { OperatorInput } from './common';
import { approvalStep } from './approval/step';
import { branchStep } from './branch/step';
import { commandStep } from './command/step';
import type { OperatorName, TaskOfOperator } from './definitions';
import { dbtStep } from './dbt/step';
import { duckdbStep } from './duckdb/step';
import { emptyStep } from './empty/step';
import { fileSensorStep } from './file-sensor/step';
import { httpStep } from './http/step';
import { loadCsvStep } from './load-csv/step';
import { notifyStep } from './notify/step';
import { shortCircuitStep } from './short-circuit/step';
import { sqlStep } from './sql/step';
import { sqlSensorStep } from './sql-sensor/step';
import { taskStep } from './task/step';
import { triggerDagStep } from './trigger-dag/step';
import { waitForDagStep } from './wait-for-dag/step';

/** What a step is given besides its task's settings. */
export interface StepContext {
  dag: CompiledDag;
  task: CompiledTask;
  run: DagRunContext;
  /** The run's context: what the task's templates and functions see. */
  ctx: RunContext;
  /** What every operator activity is given besides the task's settings. */
  base: OperatorInput;
  /** Baton's activities, called with the task's timeout, heartbeat, priority and Web UI line; the engine retries, never the server. */
  activities: ActivityInterfaceFor<Activities>;
}

/** One try of a task of operator K: its output, or a failure. */
export type OperatorStep<K extends OperatorName> = (definition: TaskOfOperator<K>, step: StepContext) => unknown;

/** Every operator's step: an operator without one does not compile. */
export const OPERATOR_STEPS: { [K in OperatorName]: OperatorStep<K> } = {
  sql: sqlStep,
  loadCsv: loadCsvStep,
  dbt: dbtStep,
  command: commandStep,
  http: httpStep,
  duckdb: duckdbStep,
  fileSensor: fileSensorStep,
  sqlSensor: sqlSensorStep,
  branch: branchStep,
  shortCircuit: shortCircuitStep,
  approval: approvalStep,
  notify: notifyStep,
  task: taskStep,
  triggerDag: triggerDagStep,
  waitForDag: waitForDagStep,
  empty: emptyStep,
};
