/**
 * Sub-daily DAGs: a cron covering every hour follows the clock in absolute time (an hourly DAG in
 * Europe/Berlin has 25 intervals on the autumn change day and 23 in spring, contiguous and never
 * overlapping), its runs are named by ts, backfills and depends_on_past walk its intervals, and a
 * ts that names no interval is refused, naming the nearest.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { planBackfill } from '../../src/backfill';
import { firesAfter, parseCron } from '../../src/cron';
import { dagRunWorkflowId, runInputFor } from '../../src/dags';
import { formatTs, parseTs, tsNodash } from '../../src/logical-date';
import { render } from '../../src/sdk/templates';
import { templateValues } from '../../src/sdk/plain-templates';
import { temporalSpec } from '../../src/temporal-calendars';
import { verifySpans } from '../../src/schedules';
import { intervalForFireTime, intervalForKey, isSubDaily, keysBetween, nextLogicalDates, previousKey, runKeyOf } from '../../src/timetable';
import { wallTime } from '../../src/zoned-time';
import { noopDagDefinition } from '../support';

const MINUTE = 60_000;
const hourly = noopDagDefinition({ dagId: 'hourly', schedule: '0 * * * *', timezone: 'Europe/Berlin', startDate: '2026-01-01' });

/** The reference for a cron covering every hour: every instant, minute by minute, whose local time the cron names. */
function everyMatchingInstant(cron: string, zone: string, from: number, to: number): number[] {
  const c = parseCron(cron);
  const fires: number[] = [];
  for (let t = from; t < to; t += MINUTE) {
    const d = new Date(wallTime(t, zone));
    const day = c.daysOfMonth.includes(d.getUTCDate()) && c.daysOfWeek.includes(d.getUTCDay()) && c.months.includes(d.getUTCMonth() + 1);
    if (day && c.hours.includes(d.getUTCHours()) && c.minutes.includes(d.getUTCMinutes())) fires.push(t);
  }
  return fires;
}

test('an hourly DAG in Europe/Berlin has 25 contiguous intervals on the autumn change day and 23 in spring, each run once', () => {
  for (const [day, count, hours] of [
    ['2026-10-25', 25, 25],
    ['2026-03-29', 23, 23],
    ['2026-06-01', 24, 24],
  ] as const) {
    const keys = keysBetween(hourly, day, day);
    assert.equal(keys.length, count, day);
    assert.equal(new Set(keys).size, count, `${day}: distinct`);
    const intervals = keys.map((k) => intervalForKey(hourly, k));
    for (const [i, interval] of intervals.entries()) {
      assert.equal(interval.ds, day, `${interval.ts} is on ${day} in Berlin`);
      assert.equal(Date.parse(interval.dataIntervalEnd) - Date.parse(interval.dataIntervalStart), 3_600_000, `${interval.ts} lasts an hour`);
      if (i > 0) assert.equal(interval.dataIntervalStart, intervals[i - 1].dataIntervalEnd, `${interval.ts} starts where the one before ends`);
    }
    const first = intervals[0].dataIntervalStart;
    const last = intervals.at(-1)!.dataIntervalEnd;
    assert.equal((Date.parse(last) - Date.parse(first)) / 3_600_000, hours, `${day} lasts ${hours} hours`);
  }
  // Autumn: 02:00 happens twice, at 00:00Z (CEST) and 01:00Z (CET); both are runs.
  assert.deepEqual(keysBetween(hourly, '2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z'), [
    '2026-10-25T00:00:00+00:00',
    '2026-10-25T01:00:00+00:00',
    '2026-10-25T02:00:00+00:00',
  ]);
  // The scheduled runs are the same intervals: each fire's interval ends where the next begins.
  const fires: number[] = [];
  for (const t of firesAfter(hourly.schedule, hourly.timezone, Date.parse('2026-10-24T21:59:59Z'))) if (fires.push(t) === 26) break;
  const scheduled = fires.slice(1).map((t) => runKeyOf(hourly, intervalForFireTime(hourly, new Date(t))));
  assert.deepEqual(scheduled, keysBetween(hourly, '2026-10-25', '2026-10-25'));
});

test('crons covering every hour fire at every instant showing their time, minute by minute around both clock changes', () => {
  const cases: Array<[string, string, string]> = [
    ['0 * * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z'],
    ['0 * * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z'],
    ['*/15 * * * *', 'America/New_York', '2026-11-01T00:00:00Z'],
    ['30 * * * *', 'America/New_York', '2026-03-08T00:00:00Z'],
    ['0 * * * 1-5', 'Europe/Berlin', '2026-10-23T00:00:00Z'],
    ['0 * * * *', 'Australia/Lord_Howe', '2026-04-04T00:00:00Z'],
  ];
  for (const [cron, zone, fromIso] of cases) {
    const from = Date.parse(fromIso);
    const to = from + 3 * 86_400_000;
    const actual: number[] = [];
    for (const t of firesAfter(cron, zone, from - 1)) {
      if (t >= to) break;
      actual.push(t);
    }
    assert.deepEqual(actual.map(formatTs), everyMatchingInstant(cron, zone, from, to).map(formatTs), `${cron} in ${zone}`);
  }
});

test("a sub-daily run is named <dag_id>-<ts>, its input is { ts }, and its templates see ts and ts_nodash; a daily DAG's runs keep <dag_id>-<ds>", () => {
  assert.equal(isSubDaily(hourly), true);
  assert.equal(isSubDaily(noopDagDefinition({ dagId: 'daily' })), false);
  assert.equal(isSubDaily(noopDagDefinition({ dagId: 'twice', schedule: '0 6,18 * * *' })), true);
  const interval = intervalForKey(hourly, '2026-07-01T13:00:00+00:00');
  assert.deepEqual(interval, {
    ds: '2026-07-01',
    ts: '2026-07-01T13:00:00+00:00',
    dataIntervalStart: '2026-07-01T13:00:00.000Z',
    dataIntervalEnd: '2026-07-01T14:00:00.000Z',
  });
  const key = runKeyOf(hourly, interval);
  assert.equal(dagRunWorkflowId('hourly', key), 'hourly-2026-07-01T13:00:00+00:00');
  assert.deepEqual(runInputFor(key), { ts: '2026-07-01T13:00:00+00:00' });
  assert.deepEqual(runInputFor('2026-07-01'), { ds: '2026-07-01' });
  // Another offset, the same instant, the same run.
  assert.equal(runKeyOf(hourly, intervalForKey(hourly, '2026-07-01T15:00:00+02:00')), key);
  const values = templateValues(interval);
  assert.equal(values.ts_nodash, '20260701T130000');
  const context = { ...values, data_interval_start: interval.dataIntervalStart, data_interval_end: interval.dataIntervalEnd, params: {}, conf: {}, xcom: {} };
  assert.equal(render('part={{ ts_nodash }} at {{ ts }} of {{ ds }}', context as never), 'part=20260701T130000 at 2026-07-01T13:00:00+00:00 of 2026-07-01');
  assert.equal(tsNodash('2026-07-01T13:00:00+00:00'), '20260701T130000');
  // A daily DAG's interval has a ts too (its start), as in Airflow, but its key is its ds.
  const daily = noopDagDefinition({ dagId: 'daily', schedule: '0 6 * * *' });
  const day = intervalForKey(daily, '2026-07-01');
  assert.equal(day.ts, '2026-07-01T06:00:00+00:00');
  assert.equal(runKeyOf(daily, day), '2026-07-01');
  // The trigger timetable: ts is the fire time and the interval is empty.
  const trigger = { ...hourly, timetable: 'trigger' as const };
  assert.deepEqual(intervalForFireTime(trigger, new Date('2026-07-01T13:00:00Z')), {
    ds: '2026-07-01',
    ts: '2026-07-01T13:00:00+00:00',
    dataIntervalStart: '2026-07-01T13:00:00.000Z',
    dataIntervalEnd: '2026-07-01T13:00:00.000Z',
  });
});

test('a ts that names no interval, a date for a sub-daily DAG, a ts for a daily one and a ts without an offset are refused, naming the value', () => {
  assert.throws(
    () => intervalForKey(hourly, '2026-07-01T13:30:00+00:00'),
    /^InvalidLogicalDate: ts "2026-07-01T13:30:00\+00:00" is not one of the schedule's times \(0 \* \* \* \* in Europe\/Berlin\); the nearest are 2026-07-01T13:00:00\+00:00 and 2026-07-01T14:00:00\+00:00$/,
  );
  assert.throws(
    () => intervalForKey(hourly, '2026-07-01'),
    /^InvalidLogicalDate: hourly runs more than once a day \(0 \* \* \* \*\): a run is named by its ts, such as 2026-06-30T22:00:00\+00:00, not by the date 2026-07-01$/,
  );
  assert.throws(
    () => intervalForKey(noopDagDefinition({ dagId: 'daily' }), '2026-07-01T06:00:00Z'),
    /^InvalidLogicalDate: daily runs at most once a day \(0 6 \* \* \*\): a run is named by its ds \(YYYY-MM-DD\), not by the timestamp "2026-07-01T06:00:00Z"$/,
  );
  assert.throws(() => parseTs('2026-07-01T13:00'), /ts "2026-07-01T13:00" has no offset; write it with Z or \+HH:MM \(e\.g\. 2026-07-01T13:00:00\+00:00\)/);
  assert.throws(() => parseTs('2026-02-30T13:00Z'), /is not a real calendar date/);
  assert.throws(() => parseTs('2026-07-01T25:00Z'), /is not a real time of day/);
  assert.throws(() => parseTs("2026-07-01T13:00Z'; DROP TABLE x"), /is not a timestamp in the form YYYY-MM-DDTHH:MM:SS\+00:00/);
  assert.throws(() => parseTs(42), /ts must be a timestamp string/);
  assert.throws(() => parseTs('2026-07-01T13:00:00.500Z'), /is not a timestamp in the form/);
  // A cron that skips hours fires a repeated time once, at its first occurrence: the second names no run.
  const london = noopDagDefinition({ dagId: 'twice_london', schedule: '30 1,13 * * *', timezone: 'Europe/London' });
  assert.equal(runKeyOf(london, intervalForKey(london, '2024-10-27T00:30:00+00:00')), '2024-10-27T00:30:00+00:00');
  assert.throws(() => intervalForKey(london, '2024-10-27T01:30:00+00:00'), /ts "2024-10-27T01:30:00\+00:00" is not one of the schedule's times/);
});

test("a backfill of an hourly DAG's month plans its 720 intervals; ranges may be timestamps; depends_on_past looks at the hour before", () => {
  const request = { maxActive: 4, rerun: 'none' as const, reverse: false };
  const month = planBackfill(hourly, { ...request, from: '2026-11-01', to: '2026-11-30' });
  assert.equal(month.length, 720);
  assert.equal(month[0], '2026-10-31T23:00:00+00:00'); // midnight in Berlin
  assert.equal(month.at(-1), '2026-11-30T22:00:00+00:00');
  assert.deepEqual(planBackfill(hourly, { ...request, from: '2026-11-01T10:00:00Z', to: '2026-11-01T12:00:00Z' }), [
    '2026-11-01T10:00:00+00:00',
    '2026-11-01T11:00:00+00:00',
    '2026-11-01T12:00:00+00:00',
  ]);
  assert.throws(
    () => planBackfill(noopDagDefinition({ dagId: 'daily' }), { ...request, from: '2026-11-01T10:00:00Z', to: '2026-11-02' }),
    /--from "2026-11-01T10:00:00Z": daily runs at most once a day; give a date YYYY-MM-DD/,
  );
  assert.throws(() => planBackfill(hourly, { ...request, from: '2026-11-02', to: '2026-11-01T10:00:00Z' }), /--from 2026-11-02 is after --to/);
  // A date bound is its local day: 2026-11-02 in Tokyo starts at 2026-11-01T15:00Z.
  const tokyo = noopDagDefinition({ dagId: 'tokyo', schedule: '0 * * * *', timezone: 'Asia/Tokyo' });
  assert.deepEqual(planBackfill(tokyo, { ...request, from: '2026-11-02', to: '2026-11-01T16:00:00Z' }), [
    '2026-11-01T15:00:00+00:00',
    '2026-11-01T16:00:00+00:00',
  ]);
  assert.throws(
    () => planBackfill(noopDagDefinition({ dagId: 'every_minute', schedule: '* * * * *' }), { ...request, from: '2026-01-01', to: '2026-03-01' }),
    /intervals is more than one backfill runs \(20000\); split the range/,
  );
  assert.equal(previousKey(hourly, '2026-10-25T01:00:00+00:00'), '2026-10-25T00:00:00+00:00');
  assert.equal(previousKey(hourly, '2026-10-25T00:00:00+00:00'), '2026-10-24T23:00:00+00:00');
  assert.deepEqual(nextLogicalDates(hourly, 3, new Date('2026-07-01T12:30:00Z')), [
    '2026-07-01T12:00:00+00:00',
    '2026-07-01T13:00:00+00:00',
    '2026-07-01T14:00:00+00:00',
  ]);
});

test("a cron covering every hour is Temporal interval entries on every day, calendars with an entry per repeated-hour fire otherwise; a sync checks a sub-daily DAG's first week and its clock changes", () => {
  assert.deepEqual(temporalSpec('0 * * * *', 'Europe/Berlin', 2026, 2100), { calendars: [], intervals: [{ every: 3_600_000, offset: 0 }] });
  assert.deepEqual(temporalSpec('15,45 * * * *', 'Asia/Kolkata', 2026, 2100).intervals, [
    { every: 3_600_000, offset: 45 * MINUTE },
    { every: 3_600_000, offset: 15 * MINUTE },
  ]);
  // Weekdays only: calendars; the autumn change is on a Sunday, so no repeated-hour entries.
  const weekdays = temporalSpec('0 * * * 1-5', 'Europe/Berlin', 2026, 2030);
  assert.equal(weekdays.calendars.length, 1);
  assert.deepEqual(weekdays.intervals, []);
  // Lord Howe moves its clock by half an hour: its offset does not keep its minutes; 01:30 and 01:45 happen twice a year.
  const lordHowe = temporalSpec('*/15 * * * *', 'Australia/Lord_Howe', 2026, 2026);
  assert.equal(lordHowe.calendars.length, 1);
  assert.deepEqual(
    lordHowe.intervals.map((i) => formatTs(i.offset)),
    ['2026-04-04T14:30:00+00:00', '2026-04-04T14:45:00+00:00', '2026-04-04T15:00:00+00:00', '2026-04-04T15:15:00+00:00'],
  );
  // A daily cron keeps its calendars.
  assert.deepEqual(temporalSpec('0 2 * * *', 'Europe/Berlin', 2026, 2026).intervals, []);
  const spans = verifySpans(hourly, Date.parse('2026-01-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z'));
  assert.deepEqual(
    spans.map(([a, b]) => [new Date(a).toISOString().slice(0, 10), new Date(b).toISOString().slice(0, 10)]),
    [
      ['2026-01-01', '2026-01-08'],
      ['2026-03-28', '2026-04-01'],
      ['2026-10-24', '2026-10-28'],
    ],
  );
  assert.deepEqual(verifySpans(noopDagDefinition({ dagId: 'daily' }), 0, 86_400_000), [[0, 86_400_000]]);
});
