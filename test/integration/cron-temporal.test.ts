/**
 * One cron meaning everywhere: for a table of crons and zones, over a year holding both clock
 * changes, the fire times Baton computes (src/cron.ts) are exactly the times the DAG's Temporal
 * Schedule matches (ListScheduleMatchingTimes, what `temporal schedule list-matching-times`
 * prints), and the logical dates the backfill plans are the dates of those fires.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { planBackfill } from '../../src/backfill';
import { canonicalFire, firesAfter } from '../../src/cron';
import { matchingTimes, scheduleOptionsFor, syncSchedule } from '../../src/schedules';
import { intervalForFireTime, nextLogicalDates, runKeyOf } from '../../src/timetable';
import { noopDagDefinition, temporalCli, integrationPlatform } from '../support';

const suffix = Date.now().toString(36);
const platform = integrationPlatform({ worker: false, migrate: false });
const created: string[] = [];
platform.atEnd(async () => {
  for (const id of created)
    await platform.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
});

/** Crons and zones chosen to land in gaps (spring), repeated hours (autumn), midnight changes and half-hour zones. */
export const CRON_TABLE: Array<[string, string]> = [
  ['0 2 * * *', 'Europe/Berlin'],
  ['30 2 * * *', 'Europe/Berlin'],
  ['15 2 * * 0', 'Europe/Berlin'],
  ['0 6 * * *', 'UTC'],
  ['0 6 1 * 1', 'UTC'],
  ['0 6 1 * 1', 'Europe/Berlin'],
  ['30 1 * * *', 'America/New_York'],
  ['0 2 */2 * *', 'America/New_York'],
  ['0 0 * * *', 'America/Santiago'],
  ['0 23 * * 6', 'America/Santiago'],
  ['15 2 * * *', 'Australia/Lord_Howe'],
  ['45 2 * * *', 'Pacific/Auckland'],
  ['0 3 15 3,10 *', 'Asia/Tehran'],
  ['0 9 * * mon-fri', 'Asia/Kolkata'],
  ['@weekly', 'Europe/London'],
  ['30 1 31 * *', 'Europe/London'],
  // Sub-daily: every hour follows the clock (interval entries, or calendars with the repeated hour's fires), else calendars.
  ['0 * * * *', 'Europe/Berlin'],
  ['0 * * * 1-5', 'America/New_York'],
  ['0 6,18 * * *', 'Australia/Lord_Howe'],
];

/** The coming year, from the start of the next hour: both clock changes of every zone. */
const FROM = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
const TO = FROM + 366 * 86_400_000;
const Y2024 = Date.parse('2024-01-01T00:00:00Z');
const Y2025 = Date.parse('2025-01-01T00:00:00Z');

function batonFires(cron: string, zone: string, from = FROM, to = TO): string[] {
  const fires: string[] = [];
  for (const t of firesAfter(cron, zone, from - 1)) {
    if (t >= to) break;
    fires.push(new Date(t).toISOString());
  }
  return fires;
}

/** What `temporal schedule list-matching-times` prints for the schedule, as ISO instants. */
async function temporalFires(scheduleId: string, from = FROM, to = TO): Promise<string[]> {
  const out = await temporalCli([
    'schedule',
    'list-matching-times',
    '--schedule-id',
    scheduleId,
    '--start-time',
    new Date(from - 1000).toISOString(),
    '--end-time',
    new Date(to - 1000).toISOString(),
    '-o',
    'json',
  ]);
  const times = (JSON.parse(out) as { startTime?: string[] }).startTime ?? [];
  return times.map((t) => new Date(t).toISOString());
}

test("Baton's fire times are the synced Temporal Schedule's matching times, for every cron and zone in the table, over a year", async () => {
  for (const [i, [cron, zone]] of CRON_TABLE.entries()) {
    const dag = noopDagDefinition({ dagId: `cron_${i}_${suffix}`, schedule: cron, timezone: zone, startDate: '2024-01-01' });
    created.push(dag.dagId);
    assert.equal(await syncSchedule(platform.client, dag), 'created');
    await platform.client.schedule.getHandle(dag.dagId).pause('cron table test');
    const expected = batonFires(cron, zone);
    assert.ok(expected.length > 0, `${cron} ${zone} fires in a year`);
    // Temporal may match a repeated local time twice (America/New_York) or at its second
    // occurrence only (Europe/Berlin): each maps onto the one fire it stands for.
    const raw = await matchingTimes(platform.client, dag.dagId, FROM - 1000, TO - 1000);
    const matched = raw.map((t) => new Date(canonicalFire(t, zone, cron)).toISOString());
    assert.deepEqual([...new Set(matched)], expected, `${cron} in ${zone}`);
    // Each fire is one logical date (one ts for a sub-daily cron), and the backfill plans exactly those.
    const trigger = { ...dag, timetable: 'trigger' as const };
    const dates = expected.map((t) => runKeyOf(trigger, intervalForFireTime(trigger, new Date(t))));
    assert.equal(new Set(dates).size, dates.length, `${cron} ${zone}: one fire per date`);
    const first = dates[1];
    const planned = planBackfill(trigger, { from: first, to: dates.at(-1)!, maxActive: 1, rerun: 'none', reverse: false });
    assert.deepEqual(planned, dates.slice(1), `${cron} ${zone}: backfill dates`);
  }
});

test('without its skip entries, Temporal would fire 0 23 * * 6 in America/Santiago on a Sunday after a midnight gap; the sync skips it', async () => {
  const dag = noopDagDefinition({ dagId: `cron_stray_${suffix}`, schedule: '0 23 * * 6', timezone: 'America/Santiago', startDate: '2024-01-01' });
  created.push(dag.dagId);
  await platform.client.schedule.create({ ...scheduleOptionsFor(dag), state: { paused: true } });
  const raw = await matchingTimes(platform.client, dag.dagId, Date.parse('2024-09-01T00:00:00Z'), Date.parse('2024-09-16T00:00:00Z'));
  const local = raw.map((t) => new Date(t).toLocaleString('en-US', { timeZone: 'America/Santiago', weekday: 'short', hour: '2-digit', hour12: false }));
  assert.deepEqual(local, ['Sat, 23', 'Sat, 23', 'Sun, 23', 'Sat, 23']);
  const { isFireTime } = await import('../../src/cron');
  assert.deepEqual(
    raw.map((t) => isFireTime(dag.schedule, dag.timezone, t)),
    [true, true, false, true],
  );
});

test('spring forward: 0 2 * * * in Europe/Berlin runs 2024-03-31 at 03:00 CEST; autumn: 02:30 runs once on 2024-10-27, at its first occurrence', async () => {
  const spring = batonFires('0 2 * * *', 'Europe/Berlin', Y2024, Y2025).filter((t) => t.startsWith('2024-03-3'));
  assert.deepEqual(spring, ['2024-03-30T01:00:00.000Z', '2024-03-31T01:00:00.000Z']);
  const autumn = batonFires('30 2 * * *', 'Europe/Berlin', Y2024, Y2025).filter((t) => t >= '2024-10-26' && t < '2024-10-29');
  assert.deepEqual(autumn, ['2024-10-26T00:30:00.000Z', '2024-10-27T00:30:00.000Z', '2024-10-28T01:30:00.000Z']);
  // `baton dags list` agrees: the interval DAG's next dates around the change, each once.
  const dag = noopDagDefinition({ dagId: 'x', schedule: '0 2 * * *', timezone: 'Europe/Berlin', startDate: '2024-01-01' });
  assert.deepEqual(nextLogicalDates(dag, 4, new Date('2024-03-29T12:00:00Z')), ['2024-03-29', '2024-03-30', '2024-03-31', '2024-04-01']);
});

test('day-of-month with day-of-week means either, in Temporal as in Baton: 0 6 1 * 1 fires on the 1st and on every Monday', async () => {
  const dag = noopDagDefinition({ dagId: `cron_domdow_${suffix}`, schedule: '0 6 1 * 1', timezone: 'UTC', startDate: '2024-01-01' });
  created.push(dag.dagId);
  await platform.client.schedule.create({ ...scheduleOptionsFor(dag), state: { paused: true } });
  // `baton dags list` and the backfill read it the same way.
  assert.deepEqual(nextLogicalDates({ ...dag, timetable: 'trigger' }, 3, new Date('2024-01-28T00:00:00Z')), ['2024-01-29', '2024-02-01', '2024-02-05']);
  assert.deepEqual(planBackfill({ ...dag, timetable: 'trigger' }, { from: '2024-01-28', to: '2024-02-05', maxActive: 1, rerun: 'none', reverse: false }), [
    '2024-01-29',
    '2024-02-01',
    '2024-02-05',
  ]);
  const out = await temporalCli([
    'schedule',
    'list-matching-times',
    '--schedule-id',
    dag.dagId,
    '--start-time',
    '2024-01-01T00:00:00Z',
    '--end-time',
    '2024-02-06T00:00:00Z',
  ]);
  const days = [...out.matchAll(/2024-\d\d-\d\d/g)].map((m) => m[0]);
  // Mondays 1, 8, 15, 22, 29 January and 5 February; Thursday 1 February as the 1st.
  assert.deepEqual(days, ['2024-01-01', '2024-01-08', '2024-01-15', '2024-01-22', '2024-01-29', '2024-02-01', '2024-02-05']);
});

test('end_date ends the schedule right after the last interval fires, for a weekly DAG too', async () => {
  const dag = noopDagDefinition({ dagId: `cron_end_${suffix}`, schedule: '0 6 * * 1', timezone: 'UTC', startDate: '2024-01-01', endDate: '2024-01-22' });
  created.push(dag.dagId);
  await platform.client.schedule.create({ ...scheduleOptionsFor(dag), state: { paused: true } });
  const fires = (await temporalFires(dag.dagId, Date.parse('2024-01-01T00:00:00Z'), Date.parse('2024-03-01T00:00:00Z'))).map((t) => t.slice(0, 10));
  // The run for 2024-01-22 (the last Monday on or before end_date) covers a week and fires on 2024-01-29.
  assert.deepEqual(fires, ['2024-01-01', '2024-01-08', '2024-01-15', '2024-01-22', '2024-01-29']);
  assert.deepEqual(
    fires.map((d) => intervalForFireTime(dag, new Date(`${d}T06:00:00Z`)).ds),
    ['2023-12-25', '2024-01-01', '2024-01-08', '2024-01-15', '2024-01-22'],
  );
});
