/** The no-op DAG the scenarios run, and the timings read back from a run's history. */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { DagPolicy } from '../workflows/dag';

const EventType = temporal.api.enums.v1.EventType;

export function noopPolicy(dagId: string): DagPolicy {
  return {
    dagId,
    description: `benchmark DAG ${dagId}`,
    schedule: '0 6 * * *',
    timezone: 'UTC',
    timetable: 'interval',
    startDate: '2024-01-01',
    maxActiveRuns: null,
    tags: ['bench'],
    defaultArgs: { owner: 'bench', dependsOnPast: false, email: [], emailOnFailure: false, emailOnRetry: false, retries: 0, retryDelay: '1s' },
  };
}

export interface RunTimings {
  /** WorkflowExecutionStarted. */
  startedAt: number;
  /** WorkflowExecutionCompleted (or the last event). */
  endedAt: number;
  /** Per activity of the given type, in order: scheduled, started and completed times. */
  tasks: Array<{ scheduledAt: number; startedAt?: number; completedAt?: number }>;
}

/** Reads a run's timings from its history: when it started, when each task was scheduled, started and ended. */
export async function runTimings(client: Client, workflowId: string, activityType = 'noopTask'): Promise<RunTimings> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const time = (e: (typeof events)[number]) => tsToMs(e.eventTime);
  const byScheduledId = new Map<number, RunTimings['tasks'][number]>();
  const tasks: RunTimings['tasks'] = [];
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === activityType) {
      const task = { scheduledAt: time(e) };
      tasks.push(task);
      byScheduledId.set(Number(e.eventId), task);
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const task = byScheduledId.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId));
      if (task) task.startedAt = time(e);
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const task = byScheduledId.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId));
      if (task) task.completedAt = time(e);
    }
  }
  return { startedAt: time(events[0]), endedAt: time(events[events.length - 1]), tasks };
}
