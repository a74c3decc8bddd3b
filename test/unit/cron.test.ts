/**
 * src/cron.ts against a brute-force reading of the clock: minute by minute around every clock
 * change of a year, a cron fires where its local time first shows, or at the first minute after
 * a gap that swallowed it; and the parser's refusals, which name the field.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { CronError, firesAfter, nextFire, parseCron, previousFire } from '../../src/cron';
import { wallTime } from '../../src/zoned-time';
import { validateDag } from '../../src/dag-validation';
import { logicalDatesBetween, previousLogicalDate } from '../../src/timetable';
import { noopDagDefinition } from '../support';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Windows of ±2 days around each change of the zone's offset in [from, to). */
function changeWindows(zone: string, from: number, to: number): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  const offset = (t: number) => wallTime(t, zone) - t;
  for (let t = from; t < to; t += DAY) if (offset(t) !== offset(t + DAY)) windows.push([t - DAY, t + 3 * DAY]);
  return windows;
}

/** The reference: scan every minute; fire at the first minute showing the cron's time, or the first after a gap over it. */
function bruteForce(cron: string, zone: string, from: number, to: number): number[] {
  const c = parseCron(cron);
  const fires: number[] = [];
  const seen = new Set<number>();
  const matches = (wall: number) => {
    const d = new Date(wall);
    const dom = c.daysOfMonth.includes(d.getUTCDate());
    const dow = c.daysOfWeek.includes(d.getUTCDay());
    const day = c.domStar || c.dowStar ? dom && dow : dom || dow;
    return day && c.months.includes(d.getUTCMonth() + 1) && c.hours.includes(d.getUTCHours()) && c.minutes.includes(d.getUTCMinutes());
  };
  let previousWall = wallTime(from - MINUTE, zone);
  for (let t = from; t < to; t += MINUTE) {
    const wall = wallTime(t, zone);
    // Wall times skipped since the last minute (a gap) fire now, at the first valid minute.
    for (let w = previousWall + MINUTE; w <= wall; w += MINUTE) {
      if (matches(w) && !seen.has(w)) {
        seen.add(w);
        fires.push(t);
        break;
      }
    }
    previousWall = Math.max(previousWall, wall);
  }
  return fires;
}

const CASES: Array<[string, string]> = [
  ['0 2 * * *', 'Europe/Berlin'],
  ['30 2 * * *', 'Europe/Berlin'],
  ['59 1 * * *', 'America/New_York'],
  ['30 1 * * *', 'America/New_York'],
  ['0 0 * * *', 'America/Santiago'],
  ['30 23 * * *', 'America/Santiago'],
  ['15 2 * * *', 'Australia/Lord_Howe'],
  ['45 1 * * *', 'Australia/Lord_Howe'],
  ['0 3 * * *', 'Pacific/Auckland'],
];

test('fire times equal a minute-by-minute scan of the clock around every clock change of 2024 and 2025', () => {
  for (const [cron, zone] of CASES) {
    for (const [from, to] of changeWindows(zone, Date.parse('2024-01-01T00:00:00Z'), Date.parse('2026-01-01T00:00:00Z'))) {
      const expected = bruteForce(cron, zone, from, to);
      const actual: number[] = [];
      for (const t of firesAfter(cron, zone, from - 1)) {
        if (t >= to) break;
        actual.push(t);
      }
      assert.deepEqual(
        actual.map((t) => new Date(t).toISOString()),
        expected.map((t) => new Date(t).toISOString()),
        `${cron} ${zone} near ${new Date(from).toISOString()}`,
      );
      // previousFire walks the same fires backwards.
      for (let i = 1; i < actual.length; i++) assert.equal(previousFire(cron, zone, actual[i]), actual[i - 1]);
    }
  }
});

test('a gap moves the fire to the first valid minute after it; a repeated hour fires once, at its first occurrence', () => {
  assert.equal(new Date(nextFire('30 2 * * *', 'Europe/Berlin', Date.parse('2024-03-30T12:00:00Z'))).toISOString(), '2024-03-31T01:00:00.000Z');
  assert.equal(new Date(nextFire('30 1 * * *', 'America/New_York', Date.parse('2024-11-02T12:00:00Z'))).toISOString(), '2024-11-03T05:30:00.000Z');
  assert.equal(new Date(nextFire('30 1 * * *', 'America/New_York', Date.parse('2024-11-03T05:30:00Z'))).toISOString(), '2024-11-04T06:30:00.000Z');
  // Midnight does not exist in Santiago on 2024-09-08: that day starts, and fires, at 01:00.
  assert.equal(new Date(nextFire('0 0 * * *', 'America/Santiago', Date.parse('2024-09-07T12:00:00Z'))).toISOString(), '2024-09-08T04:00:00.000Z');
});

test('day-of-month and day-of-week both restricted mean either; a field starting with * means both', () => {
  const dag = noopDagDefinition({ dagId: 'domdow', schedule: '0 6 1 * 1', timetable: 'trigger' });
  assert.deepEqual(logicalDatesBetween(dag, '2024-01-26', '2024-02-12'), ['2024-01-29', '2024-02-01', '2024-02-05', '2024-02-12']);
  const starred = noopDagDefinition({ dagId: 'domdow', schedule: '0 6 */2 * 1', timetable: 'trigger' });
  // Odd days that are Mondays only: 2024-01-01, 2024-01-15, 2024-01-29.
  assert.deepEqual(logicalDatesBetween(starred, '2024-01-01', '2024-01-31'), ['2024-01-01', '2024-01-15', '2024-01-29']);
  assert.equal(previousLogicalDate(noopDagDefinition({ dagId: 'w', schedule: '0 6 * * 1' }), '2024-01-15'), '2024-01-08');
});

test('the parser names the field and what is wrong; presets, names and 7 for Sunday are read', () => {
  const refused: Array<[string, RegExp]> = [
    ['0 6 L * *', /day-of-month "L" is not supported.*Baton accepts numbers, names, \*, ranges a-b, lists a,b and steps \/n; not L, W, #, \? or H/],
    ['0 6 * * 1#2', /day-of-week "1#2" is not supported/],
    ['0 6 15W * *', /day-of-month "15W" is not supported/],
    ['0 6 ? * 1', /day-of-month "\?" is not supported/],
    ['0 25 * * *', /hour "25" has 25, outside 0-23/],
    ['0 6 * 13 *', /month "13" has 13, outside 1-12/],
    ['0 6 20-10 * *', /day-of-month "20-10" has the range 20-10, which runs backwards/],
    ['0 6 * * * *', /must have 5 fields \(minute hour day month weekday\), found 6/],
    ['@reboot', /unknown preset/],
    ['0 6 * * fun', /day-of-week "fun" is not supported: "fun" is not a number or a name/],
    ['*/0 6 * * *', /minute "\*\/0" has a step of 0/],
  ];
  for (const [cron, message] of refused)
    assert.throws(
      () => parseCron(cron),
      (err: Error) => err instanceof CronError && message.test(err.message),
      cron,
    );
  assert.deepEqual(parseCron('0 6 * * 7').daysOfWeek, [0]);
  assert.deepEqual(parseCron('0 6 * * MON-FRI').daysOfWeek, [1, 2, 3, 4, 5]);
  assert.deepEqual(parseCron('0 6 * jan,jul *').months, [1, 7]);
  assert.deepEqual(parseCron('@weekly').daysOfWeek, [0]);
  assert.deepEqual(parseCron('5/20 6 * * *').minutes, [5, 25, 45]);
});

test('validateDag refuses, naming the DAG and the field, a cron that never fires or is not supported; sub-daily crons are valid', () => {
  const refuse = (schedule: string, message: RegExp) =>
    assert.throws(
      () => validateDag(noopDagDefinition({ dagId: 'bad_cron', schedule })),
      (err: Error) => err.message.startsWith('DAG "bad_cron": schedule: ') && message.test(err.message),
      schedule,
    );
  refuse('@reboot', /unknown preset/);
  for (const schedule of ['0 6,18 * * *', '@hourly', '*/15 * * * *'])
    assert.doesNotThrow(() => validateDag(noopDagDefinition({ dagId: 'sub_daily', schedule })), schedule);
  refuse('0 6 30 2 *', /never fires/);
  refuse('0 6 L * *', /not supported/);
  assert.doesNotThrow(() => validateDag(noopDagDefinition({ dagId: 'leap', schedule: '0 6 29 2 *' })));
});
