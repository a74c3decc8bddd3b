import assert from '../support/assert';
import { test } from '@jest/globals';
import { addDays, dsNodash, parseDs } from '../../src/logical-date';
import { intervalForFireTime } from '../../src/timetable';

test('parseDs accepts real dates', () => {
  assert.equal(parseDs('2024-01-15'), '2024-01-15');
  assert.equal(parseDs('2024-02-29'), '2024-02-29');
  assert.equal(dsNodash('2024-01-15'), '20240115');
  assert.equal(addDays('2024-02-28', 1), '2024-02-29');
  assert.equal(addDays('2024-03-01', -1), '2024-02-29');
});

test('parseDs names the bad value', () => {
  assert.throws(() => parseDs('2024-02-30'), { message: 'ds "2024-02-30" is not a real calendar date' });
  assert.throws(() => parseDs('2023-02-29'), { message: 'ds "2023-02-29" is not a real calendar date' });
  assert.throws(() => parseDs('../x'), { message: 'ds "../x" is not a date in the form YYYY-MM-DD' });
  assert.throws(() => parseDs("'; drop table"), { message: `ds "'; drop table" is not a date in the form YYYY-MM-DD` });
  assert.throws(() => parseDs('2024-01-15\n'), { message: 'ds "2024-01-15\\n" is not a date in the form YYYY-MM-DD' });
  assert.throws(() => parseDs(20240115), { message: 'ds must be a date string YYYY-MM-DD, got 20240115' });
  assert.throws(() => parseDs(undefined), { message: 'ds must be a date string YYYY-MM-DD, got undefined' });
});

test('interval timetable: the 06:00 run covers the previous day', () => {
  const dag = { schedule: '0 6 * * *', timezone: 'UTC', timetable: 'interval' as const };
  assert.deepEqual(intervalForFireTime(dag, new Date('2024-01-16T06:00:00Z')), {
    ds: '2024-01-15',
    ts: '2024-01-15T06:00:00+00:00',
    dataIntervalStart: '2024-01-15T06:00:00.000Z',
    dataIntervalEnd: '2024-01-16T06:00:00.000Z',
  });
});

test('trigger timetable: ds is the fire date', () => {
  const dag = { schedule: '0 6 * * *', timezone: 'UTC', timetable: 'trigger' as const };
  assert.equal(intervalForFireTime(dag, new Date('2024-01-16T06:00:00Z')).ds, '2024-01-16');
});

test('interval timetable in a timezone across a DST change', () => {
  // Europe/Berlin springs forward on 2024-03-31; the 00:30 local run still covers the previous local day.
  const dag = { schedule: '30 0 * * *', timezone: 'Europe/Berlin', timetable: 'interval' as const };
  const fire = new Date('2024-03-31T23:30:00+02:00');
  const interval = intervalForFireTime(dag, fire);
  assert.equal(interval.ds, '2024-03-31');
  assert.equal(interval.dataIntervalStart, '2024-03-30T23:30:00.000Z');
});
