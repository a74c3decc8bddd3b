/**
 * Deadlines (a DAG's or a task's `deadline`): when one falls for a run, and what its alert says.
 * Pure: the run's deadline watch (workflows/notifiers.ts) and the tests share it.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { TaskRecord } from './contracts';
import type { Deadline } from './sdk/types';
import type { DataInterval } from './timetable';

/** When a deadline falls for a run (ms since the epoch): its reference time (the interval's start or end, or the run's start) plus `within`. */
export function deadlineAt(deadline: Deadline, interval: Pick<DataInterval, 'dataIntervalStart' | 'dataIntervalEnd'>, runStart: number): number {
  const base =
    deadline.after === 'logical_date'
      ? Date.parse(interval.dataIntervalStart)
      : deadline.after === 'data_interval_end'
        ? Date.parse(interval.dataIntervalEnd)
        : runStart;
  return base + msToNumber(deadline.within as Duration);
}

/** `1h 5m`, `12m`, `40s`: how late, for people. */
export function lateBy(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3_600), Math.floor((s % 3_600) / 60)];
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', !d && !h && !m ? `${s % 60}s` : ''].filter(Boolean).join(' ');
}

const UNFINISHED: readonly string[] = ['scheduled', 'queued', 'running'];

/**
 * The alert of a deadline that fell at `at`, seen at `now` with the run's task table; none when
 * what it covers is done (a task's deadline: the task finished).
 */
export function deadlineAlert(deadline: Deadline, at: number, now: number, tasks: readonly TaskRecord[], taskId?: string): string | undefined {
  const task = taskId === undefined ? undefined : tasks.find((t) => t.taskId === taskId);
  if (taskId !== undefined && (!task || !UNFINISHED.includes(task.state))) return undefined;
  const rule = `${deadline.after} + ${deadline.within} = ${new Date(at).toISOString()}`;
  const late = lateBy(now - at);
  if (task) return `${task.taskId} is not done by its deadline (${rule}): it is ${task.state}, ${late} late`;
  const busy = tasks.filter((t) => t.state === 'running' || t.state === 'queued').map((t) => t.taskId);
  return `the run is not done by its deadline (${rule}): ${busy.length ? `it is at ${busy.join(', ')}` : 'it is between tasks'}, ${late} late`;
}
