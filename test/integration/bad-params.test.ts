/**
 * Bad parameters get a clear error that names the value, before any side effect, whichever way
 * they come in: Baton's CLI (exit code 2, nothing started), the Temporal CLI (the run fails in
 * its first workflow task: no activity ever scheduled), and the schedule sync (nothing created).
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { ScheduleNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { ordersDailyEtlDag } from '../support/reference-dags';
import { syncSchedule } from '../../src/schedules';
import { noopDagDefinition, temporalCli, integrationPlatform } from '../support';
import { baton } from '../support/cli';

const platform = integrationPlatform({ migrate: false });
const suffix = Date.now().toString(36);

const BAD_DATES: Array<[value: string, message: RegExp]> = [
  ['2024-02-30', /"2024-02-30" is not a real calendar date/],
  ['2024-13-01', /"2024-13-01" is not a real calendar date/],
  ['20240115', /"20240115" is not a date in the form YYYY-MM-DD/],
  ["2024-01-15'; DROP TABLE warehouse.orders; --", /is not a date in the form YYYY-MM-DD/],
  ['$(touch /tmp/baton-pwned)', /"\$\(touch \/tmp\/baton-pwned\)" is not a date in the form YYYY-MM-DD/],
  ['../../etc/passwd', /"..\/..\/etc\/passwd" is not a date in the form YYYY-MM-DD/],
];

/** Workflows started since `since` (none may be, for a refused command). */
async function startedSince(since: Date): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of platform.client.workflow.list({ query: `StartTime >= "${since.toISOString()}"` })) ids.push(w.workflowId);
  return ids;
}

test("Baton's CLI refuses bad dates, conf, DAG ids and flags with exit code 2, naming the value, and starts nothing", async () => {
  const since = new Date();
  const cases: Array<[args: string[], message: RegExp]> = [
    ...BAD_DATES.map(([value, message]): [string[], RegExp] => [['trigger', 'orders_daily_etl', '--ds', value], message]),
    ...BAD_DATES.map(([value, message]): [string[], RegExp] => [['run', 'orders-etl', '--start-date', value], message]),
    [['backfill', 'orders_daily_etl', '--from', '2024-01-10', '--to', '2024-01-01'], /--from 2024-01-10 is after --to 2024-01-01/],
    [
      ['backfill', 'orders_daily_etl', '--from', '2024-01-01', '--to', '2024-01-05', '--max-active', '0'],
      /--max-active must be a whole number from 1 to 100, got 0/,
    ],
    [
      ['trigger', 'orders_daily; rm -rf /', '--ds', '2024-01-15'],
      /unknown DAG "orders_daily; rm -rf \/"; known: approval_example, customers_example, .*orders_daily_etl/,
    ],
    [['trigger', 'orders_daily_etl', '--ds', '2024-01-15', '--conf', '{"skip_dbt": tru'], /--conf is not JSON: /],
    [['trigger', 'orders_daily_etl', '--ds', '2024-01-15', '--conf', '[1, 2]'], /--conf must be a JSON object/],
    [
      ['trigger', 'orders_daily_etl', '--ds', '2024-01-15', '--conf', JSON.stringify({ blob: 'x'.repeat(70_000) })],
      /conf is \d+ bytes, more than the \d+ allowed/,
    ],
    [
      ['run', 'orders-etl', '--start-date', '2024-01-15', '--conf', JSON.stringify({ cache_policy: 'forever' })],
      /orders-etl: bad params, nothing was started: params\.cache_policy: .* \(conf gave "forever"\)/,
    ],
    [
      ['trigger', 'orders_daily_etl', '--ds', '2024-01-15', '--conf', JSON.stringify({ max_rejected_ratio: 2 })],
      /orders_daily_etl: bad params, nothing was started: params\.max_rejected_ratio: .* \(conf gave 2\)/,
    ],
  ];
  const wrong: string[] = [];
  for (const [args, message] of cases) {
    const { code, stderr } = await baton(args);
    if (code !== 2 || !message.test(stderr)) wrong.push(`baton ${args.join(' ').slice(0, 80)}: exit ${code}, ${stderr.trim().slice(0, 200)}`);
  }
  assert.deepEqual(wrong, []);
  assert.deepEqual(await startedSince(since), [], 'nothing was started');
});

test('from the Temporal CLI: a bad ds, conf or start date fails the run in its first workflow task, naming the value; no activity runs', async () => {
  const cases: Array<[type: string, input: Record<string, unknown>, message: RegExp]> = [
    ...BAD_DATES.map(([value, message]): [string, Record<string, unknown>, RegExp] => ['ordersDailyEtl', { ds: value }, message]),
    ['ordersDailyEtl', { ds: '2024-01-15', conf: { source: 'ftp' } }, /orders_daily_etl: bad params, no task was run: params\.source: .* \(conf gave "ftp"\)/],
    ['ordersDailyEtl', { ds: '2024-01-15', conf: [1, 2] }, /orders_daily_etl: conf must be a JSON object, got an array/],
    ['ordersDailyEtl', { ds: '2024-01-15', conf: { blob: 'x'.repeat(70_000) } }, /orders_daily_etl: conf is \d+ bytes, more than the \d+ allowed/],
    ...BAD_DATES.map(([value, message]): [string, Record<string, unknown>, RegExp] => ['ordersPipeline', { ds: value }, message]),
    [
      'ordersPipeline',
      { ds: '2024-01-15', conf: { cache_policy: 'forever' } },
      /orders-etl: bad params, no task was run: params\.cache_policy: .* \(conf gave "forever"\)/,
    ],
  ];
  const wrong: string[] = [];
  for (const [i, [type, input, message]] of cases.entries()) {
    const workflowId = `bad-params-${suffix}-${i}`;
    await temporalCli(['workflow', 'start', '--task-queue', 'etl', '--type', type, '--workflow-id', workflowId, '--input', JSON.stringify(input)]);
    const handle = platform.client.workflow.getHandle(workflowId);
    try {
      await handle.result();
      wrong.push(`${type} ${JSON.stringify(input).slice(0, 60)}: succeeded`);
    } catch (err) {
      const text = err instanceof WorkflowFailedError ? (err.cause?.message ?? '') : String(err);
      if (!message.test(text)) wrong.push(`${type} ${JSON.stringify(input).slice(0, 60)}: ${text.slice(0, 200)}`);
    }
    const history = await handle.fetchHistory();
    // Local activities are markers too; a patch marker (which code path the run takes) is none.
    const activities = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes || (e.markerRecordedEventAttributes && e.markerRecordedEventAttributes.markerName !== 'core_patch'),
    );
    if (activities.length) wrong.push(`${type} ${JSON.stringify(input).slice(0, 60)}: ${activities.length} activities before the error`);
  }
  assert.deepEqual(wrong, []);
});

test('the schedule sync refuses broken crons, unknown timezones and bad DAG ids before creating anything', async () => {
  const cases: Array<[overrides: Record<string, unknown>, message: RegExp]> = [
    [{ schedule: '61 6 * * *' }, /schedule: cron "61 6 \* \* \*": minute "61" has 61, outside 0-59/],
    [{ schedule: '0 6 L * *' }, /schedule: cron "0 6 L \* \*": day-of-month "L" is not supported/],
    [{ schedule: '0 6 * *' }, /cron "0 6 \* \*" must have 5 fields \(minute hour day month weekday\), found 4/],
    [{ schedule: '0 6 * * * ; rm -rf /' }, /cron "0 6 \* \* \* ; rm -rf \/" must have 5 fields \(minute hour day month weekday\), found 9/],
    [{ timezone: 'Mars/Olympus' }, /unknown timezone "Mars\/Olympus"/],
    [{ timezone: '../../etc/localtime' }, /unknown timezone/],
    [{ startDate: '2024-02-30' }, /startDate "2024-02-30": a real date YYYY-MM-DD/],
  ];
  const wrong: string[] = [];
  for (const [i, [overrides, message]] of cases.entries()) {
    const dag = { ...noopDagDefinition({ dagId: `bad_sync_${suffix}_${i}` }), ...overrides };
    const outcome = await syncSchedule(platform.client, dag).then(
      () => 'created',
      (err: Error) => err.message,
    );
    if (!message.test(outcome)) wrong.push(`${JSON.stringify(overrides)}: ${outcome}`);
    await assert.rejects(platform.client.schedule.getHandle(dag.dagId).describe(), ScheduleNotFoundError);
  }
  const badId = { ...ordersDailyEtlDag, dagId: "orders'; DROP SCHEMA warehouse; --" };
  const outcome = await syncSchedule(platform.client, badId).then(
    () => 'created',
    (err: Error) => err.message,
  );
  if (!/lower-case letters, digits, _ and -, starting with a letter/.test(outcome)) wrong.push(`bad dag_id: ${outcome}`);
  assert.deepEqual(wrong, []);
});
