/**
 * The DAG toolkit shared by Baton's workflows: a task table with Airflow's task states,
 * branching and skips. Deterministic: no I/O, time is workflow time.
 */
import { ApplicationFailure, defineQuery, setHandler } from '@temporalio/workflow';
import { Queries, type TaskRecord } from '../src/contracts';

export const tasksQuery = defineQuery<TaskRecord[]>(Queries.tasks);

/** The innermost failure message: what actually went wrong, not "Activity task failed". */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

export class TaskTable {
  private readonly records = new Map<string, TaskRecord>();

  /** Task ids in the DAG's order; all start `scheduled`. Registers the `tasks` query. */
  constructor(taskIds: readonly string[]) {
    for (const taskId of taskIds) this.records.set(taskId, { taskId, state: 'scheduled' });
    setHandler(tasksQuery, () => this.list());
  }

  /**
   * Runs one task. Its output summary is kept as the task's XCom; on failure the task is
   * `failed`, every task still scheduled becomes `upstream_failed`, and the workflow fails
   * with a message naming the task and the root cause.
   */
  async run<T>(taskId: string, work: () => Promise<T>, output?: (result: T) => TaskRecord['output']): Promise<T> {
    const record = this.get(taskId);
    record.state = 'running';
    record.startedAt = new Date().toISOString();
    const started = Date.now();
    try {
      const result = await work();
      record.state = 'success';
      if (output) record.output = output(result);
      return result;
    } catch (err) {
      record.state = 'failed';
      record.error = rootMessage(err);
      for (const other of this.records.values()) if (other.state === 'scheduled') other.state = 'upstream_failed';
      throw ApplicationFailure.create({
        message: `task ${taskId} failed: ${record.error}`,
        type: 'TaskFailed',
        nonRetryable: true,
        cause: err as Error,
      });
    } finally {
      record.durationMs = Date.now() - started;
    }
  }

  /** Marks tasks a branch did not choose, as Airflow's BranchPythonOperator does. */
  skip(...taskIds: string[]): void {
    for (const taskId of taskIds) this.get(taskId).state = 'skipped';
  }

  failedTask(): TaskRecord | undefined {
    return [...this.records.values()].find((r) => r.state === 'failed');
  }

  list(): TaskRecord[] {
    return [...this.records.values()].map((r) => ({ ...r, ...(r.output ? { output: { ...r.output } } : {}) }));
  }

  private get(taskId: string): TaskRecord {
    const record = this.records.get(taskId);
    if (!record) throw new Error(`unknown task ${taskId}`);
    return record;
  }
}
