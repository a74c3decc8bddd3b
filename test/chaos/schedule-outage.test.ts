/**
 * An outage across fire times: a Temporal dev server of the test's own is stopped while two schedules fire
 * (every minute here, so two fires are missed in about a minute and a half), then started again.
 * catchup=False: of the missed fires only the latest starts a run, the older one stands down.
 * catchup=True: every missed fire is started, oldest first. A minute cron is a sub-daily DAG:
 * each fire is a run of its own, `<dag_id>-<ts>`, and the outcomes of the schedule's own
 * scheduledDagRun workflows tell: with catchup=True neither stands down.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import type { ScheduledDagRunResult } from '../../src/contracts';
import { formatTs, utcDate } from '../../src/logical-date';
import { scheduleOptionsFor } from '../../src/schedules';
import { noopDagDefinition } from '../support';
import { chaosPlatform, report, sleep, waitUntil } from './support';

const chaos = chaosPlatform({ privateTemporal: true });
const suffix = Date.now().toString(36);

test('the server down over two fire times: catchup=False runs the latest missed interval once, catchup=True every one, oldest first', async () => {
  await chaos.startWorker();
  const client = chaos.client;
  const today = utcDate(new Date());
  // The schedule is made from the options the sync makes (without its check of a year of fire times, long for a minute cron).
  const dags = [false, true].map((catchup) =>
    noopDagDefinition(
      { dagId: `outage_${catchup ? 'catchup' : 'latest'}_${suffix}`, schedule: '* * * * *', timetable: 'trigger', startDate: today, catchup },
      { tasks: 1 },
    ),
  );
  for (const dag of dags) await client.schedule.create(scheduleOptionsFor(dag));
  // A schedule counts missed fires from its scheduler's first look: let both have looked (describe answers from it).
  for (const dag of dags)
    await waitUntil(`${dag.dagId}'s scheduler`, async () =>
      (await client.schedule.getHandle(dag.dagId).describe()).info.nextActionTimes.length > 0 ? true : undefined,
    );
  await sleep(2_000);

  const stoppedAt = Date.now();
  await chaos.temporal.stop(() => undefined);
  const secondBoundary = Math.ceil((stoppedAt + 1) / 60_000) * 60_000 + 60_000;
  await sleep(secondBoundary + 3_000 - Date.now());
  await chaos.restartTemporal();
  const restartedAt = Date.now();
  report(`schedule-outage: the dev server was down for ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s over two fire times`);
  const missed = [secondBoundary - 60_000, secondBoundary];

  for (const dag of dags) {
    const outcomes = await waitUntil(`${dag.dagId}'s missed fires`, async () => {
      const found = new Map<number, { outcome: ScheduledDagRunResult['outcome']; startedAt: number }>();
      try {
        for await (const run of client.workflow.list({ query: `TemporalScheduledById = '${dag.dagId}'` })) {
          const at = (run.searchAttributes?.TemporalScheduledStartTime as Date[] | undefined)?.[0];
          if (!at || !missed.includes(new Date(at).getTime())) continue;
          if (run.status.name !== 'COMPLETED') return undefined;
          const { outcome } = (await client.workflow.getHandle(run.workflowId, run.runId).result()) as ScheduledDagRunResult;
          found.set(new Date(at).getTime(), { outcome, startedAt: run.startTime.getTime() });
        }
      } catch {
        return undefined; // the server is still coming up
      }
      return found.size === missed.length ? found : undefined;
    });
    const [older, latest] = missed.map((m) => outcomes.get(m)!);
    assert.ok(older.startedAt <= latest.startedAt, 'the schedule starts missed fires oldest first');
    if (dag.catchup) {
      assert.deepEqual([older.outcome, latest.outcome], ['started', 'started'], 'catchup=True: every missed fire runs');
    } else {
      assert.deepEqual([older.outcome, latest.outcome], ['superseded', 'started'], 'catchup=False: only the latest missed fire runs');
    }
    // Each run is named by its fire's ts (the trigger timetable's logical timestamp).
    for (const fire of dag.catchup ? missed : missed.slice(1)) {
      const result = await client.workflow.getHandle(`${dag.dagId}-${formatTs(fire)}`).result();
      assert.equal((result as { tasks: Array<{ state: string }> }).tasks[0].state, 'success');
    }
    await client.schedule.getHandle(dag.dagId).delete();
  }
});
