/**
 * Baton's run and task metrics, recorded from workflow code with the SDK's workflow
 * metricMeter: the worker serves them with Temporal's own on its Prometheus port, and the SDK
 * adds namespace, taskQueue and workflowType. Nothing is recorded while a history replays,
 * so a run or a task counts once however often its workflow is replayed.
 * Labels stay bounded: dag_id, task_id and state, never a ds or a run id.
 */
import { metricMeter } from '@temporalio/workflow';
import { MetricNames, type TaskState } from '../src/contracts';

/** How a DAG run ended, as Airflow's DagRun states name it. */
export type RunState = 'success' | 'failed';

/** One DAG run ended: baton_dag_runs{dag_id, state} += 1. */
export function recordRun(dagId: string, state: RunState): void {
  metricMeter.createCounter(MetricNames.dagRuns, 'runs', 'DAG runs that ended, by state').add(1, { dag_id: dagId, state });
}

/** One task ended after durationMs of workflow time: baton_task_duration_seconds{dag_id, task_id, state}. */
export function recordTask(dagId: string, taskId: string, state: TaskState, durationMs: number): void {
  metricMeter
    .createHistogram(MetricNames.taskDuration, 'float', 's', 'task durations, by end state')
    .record(Math.max(0, durationMs) / 1000, { dag_id: dagId, task_id: taskId, state });
}
