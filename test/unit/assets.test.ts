/**
 * Assets (src/sdk/assets.ts, src/assets.ts): the condition a DAG is scheduled on, parsed from an
 * expression or from all / any, and evaluated over the assets updated for a partition; a task's
 * outlets and a DAG's asset schedule checked before anything runs; the run a partition names; and
 * what `baton dags validate` finds across the project's DAGs.
 */
import assert from '../support/assert';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { command, dag, empty, type DagSettings } from 'baton/sdk';
import { checkProjectAssets, consumersOf, projectAssets } from '../../src/assets';
import { assetArg, partitionArg } from '../../src/cli/assets';
import { checkDags } from '../../src/cli/dags';
import { validateDag } from '../../src/dag-validation';
import { scheduleText, type DagDefinition } from '../../src/dags';
import { assetExpressionOf, evaluateAssets, formatAssetExpression, parseAssetExpression, remainingAssets, type AssetCondition } from '../../src/sdk/assets';
import { compileDag, InvalidDagFile, type CompiledDag } from '../../src/sdk/compile';
import { assetRunKey, canonicalPartition, intervalForKey, keysBetween, nextLogicalDates } from '../../src/timetable';
import { tempDir } from '../support';

const parsed = (text: string) => formatAssetExpression(parseAssetExpression(text));
const parseError = (text: string) => {
  try {
    parseAssetExpression(text);
  } catch (err) {
    return (err as Error).message;
  }
  return 'parsed';
};
const met = (condition: AssetCondition, ...updated: string[]) => evaluateAssets(assetExpressionOf(condition), new Set(updated));

test('a condition parses with & binding tighter than |, parentheses, and asset names with . : - _', () => {
  assert.deepEqual(parseAssetExpression('warehouse.orders'), { asset: 'warehouse.orders' });
  assert.deepEqual(parseAssetExpression('orders & customers'), { all: [{ asset: 'orders' }, { asset: 'customers' }] });
  assert.deepEqual(parseAssetExpression('orders & customers | refunds'), {
    any: [{ all: [{ asset: 'orders' }, { asset: 'customers' }] }, { asset: 'refunds' }],
  });
  assert.deepEqual(parseAssetExpression('orders & (customers | refunds)'), {
    all: [{ asset: 'orders' }, { any: [{ asset: 'customers' }, { asset: 'refunds' }] }],
  });
  // Nested parts of one kind are flattened, a repeated asset named once, parentheses around one asset dropped.
  assert.deepEqual(parseAssetExpression('a & (b & (c)) & a'), { all: [{ asset: 'a' }, { asset: 'b' }, { asset: 'c' }] });
  assert.equal(parsed('  (s3:raw-events|x_1)&((y))  '), '(s3:raw-events | x_1) & y');
  assert.equal(parsed('a | b & (c | d & e)'), 'a | b & (c | d & e)');
});

test('a condition that does not parse is named with the position of what is wrong', () => {
  assert.equal(parseError(''), 'the asset condition is empty');
  assert.equal(parseError('   '), 'the asset condition is empty');
  assert.equal(parseError('orders &'), 'expected an asset name or "(" at position 9, found the end');
  assert.equal(parseError('orders && customers'), 'expected an asset name or "(" at position 9, found "&"');
  assert.equal(parseError('orders customers'), 'expected & or | at position 8, found "customers"');
  assert.equal(parseError('orders & (customers | refunds'), 'expected ")" at position 30 to close the "(" at position 10, found the end');
  assert.equal(parseError('orders)'), 'unexpected ")" at position 7: no "(" is open');
  assert.equal(parseError('()'), 'expected an asset name or "(" at position 2, found ")"');
  assert.equal(parseError('orders, customers'), 'unexpected "," at position 7 (an asset condition is asset names, &, |, and parentheses)');
  assert.equal(parseError('orders & 1customers'), 'asset name "1customers": a letter, then letters, digits, _ . : and - (at position 10)');
  assert.equal(parseError(`a & ${'x'.repeat(201)}`), `asset name "${'x'.repeat(40)}"... is longer than 200 characters (at position 5)`);
});

test('all and any take asset names, expressions and nested all / any; a problem names where it is', () => {
  assert.equal(formatAssetExpression(assetExpressionOf({ all: ['orders', 'customers'] })), 'orders & customers');
  assert.equal(
    formatAssetExpression(assetExpressionOf({ any: ['orders', { all: ['customers', 'refunds | returns'] }] })),
    'orders | customers & (refunds | returns)',
  );
  assert.equal(formatAssetExpression(assetExpressionOf({ all: ['a & b', { all: ['c'] }] })), 'a & b & c');
  const problem = (condition: unknown) => {
    try {
      assetExpressionOf(condition as AssetCondition);
    } catch (err) {
      return (err as Error).message;
    }
    return 'parsed';
  };
  assert.equal(problem({ all: ['orders', 'customers &'] }), 'all[1]: expected an asset name or "(" at position 12, found the end');
  assert.equal(problem({ any: ['a', { all: ['b', 'c d'] }] }), 'any[1].all[1]: expected & or | at position 3, found "d"');
  assert.equal(problem({ all: [] }), 'all takes a list of one asset or more');
  assert.equal(problem({ every: ['a'] }), 'an asset condition object has one key, all or any; got "every"');
  assert.equal(problem({ all: ['a'], any: ['b'] }), 'an asset condition object has one key, all or any; got "all", "any"');
  assert.equal(problem(['a', 'b']), "an asset condition is a string such as 'orders & customers', { all: [...] } or { any: [...] }; got an array");
});

test('a condition is met by the assets updated for a partition: all, any and nested', () => {
  assert.equal(met('orders & customers', 'orders'), false);
  assert.equal(met('orders & customers', 'orders', 'customers'), true);
  assert.equal(met({ all: ['orders', 'customers'] }, 'customers', 'orders', 'other'), true);
  assert.equal(met({ any: ['orders', 'customers'] }, 'customers'), true);
  assert.equal(met({ any: ['orders', 'customers'] }, 'refunds'), false);
  assert.equal(met('orders & (customers | refunds)', 'orders'), false);
  assert.equal(met('orders & (customers | refunds)', 'orders', 'refunds'), true);
  assert.equal(met('orders & (customers | refunds)', 'customers', 'refunds'), false);
  assert.equal(met('a & b | c & d', 'c', 'd'), true);
  assert.equal(met('a & b | c & d', 'a', 'd'), false);
  // What a partition still waits for.
  const waits = (text: string, ...updated: string[]) => {
    const left = remainingAssets(parseAssetExpression(text), new Set(updated));
    return left === true ? true : formatAssetExpression(left);
  };
  assert.equal(waits('orders & (customers | refunds) & returns', 'orders'), '(customers | refunds) & returns');
  assert.equal(waits('orders & (customers | refunds)', 'refunds'), 'orders');
  assert.equal(waits('a & b | c & d', 'a', 'c'), 'b | d');
  assert.equal(waits('a & b | c', 'c'), true);
});

const base = { startDate: '2024-01-01' } as const;
const problemsOf = (settings: DagSettings<never>, build: () => void = () => void empty('a')) => {
  try {
    compileDag(dag(settings as never, build));
    return [];
  } catch (err) {
    if (err instanceof InvalidDagFile) return err.problems;
    throw err;
  }
};

test("a task's outlets are asset names, each once", () => {
  assert.deepEqual(
    problemsOf({ ...base, dagId: 'p', schedule: '@daily' }, () => {
      command('load', { argv: ['load'], outlets: ['warehouse.orders', 's3:raw/events', '2024_orders', 'warehouse.orders'] });
    }),
    [
      'task load: command outlets.1: an asset name: a letter, then letters, digits, _ . : and -, 200 at most',
      'task load: command outlets.2: an asset name: a letter, then letters, digits, _ . : and -, 200 at most',
      'task load: command outlets: an asset is named twice',
    ],
  );
  const compiled = compileDag(dag({ ...base, dagId: 'p', schedule: '@daily' }, () => void command('load', { argv: ['load'], outlets: ['warehouse.orders'] })));
  assert.deepEqual(compiled.tasks[0].definition.outlets, ['warehouse.orders']);
});

test('a DAG scheduled on assets, alone or with a cron: its condition parsed, its problems named before anything runs', () => {
  const alone = compileDag(dag({ ...base, dagId: 'b', schedule: { assets: { all: ['orders', 'customers'] } } }, () => void empty('a'))).definition;
  assert.equal(alone.schedule, null);
  assert.deepEqual(alone.assets, { all: [{ asset: 'orders' }, { asset: 'customers' }] });
  assert.equal(scheduleText(alone), 'assets orders & customers');
  const orTime = compileDag(dag({ ...base, dagId: 'b', schedule: { assets: 'orders | customers', or: '0 6 * * *' } }, () => void empty('a'))).definition;
  assert.equal(orTime.schedule, '0 6 * * *');
  assert.equal(scheduleText(orTime), 'assets orders | customers or 0 6 * * *');
  validateDag(alone);
  validateDag(orTime);

  assert.deepEqual(problemsOf({ ...base, dagId: 'b', schedule: { assets: 'orders & (customers' } }), [
    'schedule.assets: expected ")" at position 20 to close the "(" at position 10, found the end',
  ]);
  assert.deepEqual(problemsOf({ ...base, dagId: 'b', schedule: { assets: { any: ['orders', 'bad name'] } } }), [
    'schedule.assets: any[1]: expected & or | at position 5, found "name"',
  ]);
  assert.deepEqual(problemsOf({ ...base, dagId: 'b', schedule: { assets: 'orders', or: '' } }), ['schedule.or: a cron (or a preset such as @daily), got ""']);
  assert.deepEqual(problemsOf({ ...base, dagId: 'b', schedule: { assets: 'orders', every: '1h' } as never }), [
    'schedule: unknown setting every (it takes assets and or)',
  ]);
  assert.deepEqual(problemsOf({ ...base, dagId: 'b', schedule: { cron: '@daily' } as never }), [
    "schedule: a cron (or a preset such as @daily), or assets: { assets: 'orders & customers' }, with or: '<cron>' for assets or time",
  ]);
  // Its own outlets would start its next run, and that one the next.
  assert.deepEqual(
    problemsOf({ ...base, dagId: 'b', schedule: { assets: 'orders & customers' } }, () => void command('t', { argv: ['t'], outlets: ['customers'] })),
    ['task t: it updates customers, which schedules this DAG: each run would start the next (a DAG does not consume its own outlets)'],
  );
  // Without a cron there is no interval before a run, and none missed.
  const refused = (settings: Partial<DagSettings<never>>) => {
    try {
      validateDag(compileDag(dag({ ...base, dagId: 'b', schedule: { assets: 'orders' }, ...settings } as never, () => void empty('a'))).definition);
      return 'valid';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.equal(
    refused({ defaultArgs: { dependsOnPast: true } }),
    `DAG "b": depends_on_past needs a cron: a DAG scheduled on assets alone has no previous interval (add or: '<cron>')`,
  );
  assert.equal(refused({ catchup: true }), 'DAG "b": catchup needs a cron: a DAG scheduled on assets alone has no missed intervals');
  assert.equal(refused({ schedule: { assets: 'orders', or: '0 25 * * *' } }), 'DAG "b": schedule: cron "0 25 * * *": hour "25" has 25, outside 0-23');
});

const definition = (settings: DagSettings<never>): DagDefinition => compileDag(dag(settings as never, () => void empty('a'))).definition;

test('a partition names the run of the DAG it schedules: its date, or its timestamp; one the timetable cannot name starts nothing', () => {
  const daily = definition({ ...base, dagId: 'daily', schedule: { assets: 'orders', or: '0 6 * * *' } });
  const hourly = definition({ ...base, dagId: 'hourly', schedule: { assets: 'orders', or: '0 * * * *' } });
  const alone = definition({ ...base, dagId: 'alone', schedule: { assets: 'orders' }, timezone: 'Europe/Berlin', endDate: '2024-12-31' });
  assert.deepEqual(assetRunKey(daily, '2024-01-15'), { key: '2024-01-15', ds: '2024-01-15' });
  assert.deepEqual(assetRunKey(hourly, '2024-01-15T13:00:00+00:00'), { key: '2024-01-15T13:00:00+00:00', ds: '2024-01-15' });
  assert.deepEqual(assetRunKey(alone, '2024-01-15'), { key: '2024-01-15', ds: '2024-01-15' });
  assert.deepEqual(assetRunKey(alone, '2024-01-15T23:30:00+00:00'), { key: '2024-01-15T23:30:00+00:00', ds: '2024-01-16' });
  assert.throws(() => assetRunKey(daily, '2024-01-15T13:00:00+00:00'), /daily runs at most once a day \(0 6 \* \* \*\): a run is named by its ds/);
  assert.throws(
    () => assetRunKey(hourly, '2024-01-15'),
    /hourly runs more than once a day \(0 \* \* \* \*\): a run is named by its ts, such as 2024-01-15T00:00:00\+00:00/,
  );
  assert.throws(() => assetRunKey(hourly, '2024-01-15T13:30:00+00:00'), /is not one of the schedule's times/);
  assert.throws(() => assetRunKey(daily, '2023-12-31'), /partition 2023-12-31 is before daily's start_date 2024-01-01/);
  assert.throws(() => assetRunKey(alone, '2025-01-01'), /partition 2025-01-01 is after alone's end_date 2024-12-31/);
  // A DAG on assets alone: a date's run covers that local day, a timestamp's the instant.
  assert.deepEqual(intervalForKey(alone, '2024-01-15'), {
    ds: '2024-01-15',
    ts: '2024-01-14T23:00:00+00:00',
    dataIntervalStart: '2024-01-14T23:00:00.000Z',
    dataIntervalEnd: '2024-01-15T23:00:00.000Z',
  });
  assert.deepEqual(intervalForKey(alone, '2024-01-15T23:30:00Z'), {
    ds: '2024-01-16',
    ts: '2024-01-15T23:30:00+00:00',
    dataIntervalStart: '2024-01-15T23:30:00.000Z',
    dataIntervalEnd: '2024-01-15T23:30:00.000Z',
  });
  assert.deepEqual(keysBetween(alone, '2024-02-27', '2024-03-01'), ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
  assert.deepEqual(nextLogicalDates(alone, 3, new Date('2024-01-01T00:00:00Z')), []);
  assert.equal(canonicalPartition('2024-01-15T14:00+01:00'), '2024-01-15T13:00:00+00:00');
  assert.throws(() => canonicalPartition('2024-02-30'), /partition "2024-02-30" is not a real calendar date/);
  assert.throws(() => canonicalPartition('20240115'), /partition "20240115" is not a date in the form YYYY-MM-DD/);
});

const compiled = (settings: DagSettings<never>, outlets: string[] = []): Pick<{ dag: CompiledDag }, 'dag'> => ({
  dag: compileDag(dag(settings as never, () => void command('t', { argv: ['t'], ...(outlets.length ? { outlets } : {}) }))),
});

test("the project's assets: producers and consumers; an asset nobody updates, a partition that cannot name the run, DAGs starting each other", () => {
  const files = [
    compiled({ ...base, dagId: 'producer', schedule: '@daily' }, ['orders']),
    compiled({ ...base, dagId: 'hourly_producer', schedule: '@hourly' }, ['clicks']),
    compiled({ ...base, dagId: 'consumer', schedule: { assets: 'orders & customers' } }, ['report']),
    compiled({ ...base, dagId: 'daily_on_clicks', schedule: { assets: 'clicks | orders', or: '0 6 * * *' } }),
    compiled({ ...base, dagId: 'ping', schedule: { assets: 'pong' } }, ['ping']),
    compiled({ ...base, dagId: 'pong', schedule: { assets: 'ping' } }, ['pong']),
  ];
  const assets = projectAssets(files);
  assert.deepEqual(assets.get('orders'), {
    asset: 'orders',
    producers: [{ dagId: 'producer', taskId: 't' }],
    consumers: [
      { dagId: 'consumer', condition: 'orders & customers' },
      { dagId: 'daily_on_clicks', condition: 'clicks | orders' },
    ],
  });
  assert.deepEqual(
    consumersOf(
      files.map((f) => f.dag.definition),
      'orders',
    ).map((d) => d.dagId),
    ['consumer', 'daily_on_clicks'],
  );
  assert.deepEqual(Object.fromEntries(checkProjectAssets(files)), {
    producer: { problems: [], warnings: [] },
    hourly_producer: { problems: [], warnings: [] },
    consumer: { problems: [], warnings: ['schedule: no DAG of this project updates customers; only an external system can (baton assets emit)'] },
    daily_on_clicks: {
      problems: [
        "schedule: clicks is updated by hourly_producer, whose partitions are its runs' ts, but daily_on_clicks's runs are named by ds (0 6 * * *): its updates would never start a run",
      ],
      warnings: [],
    },
    ping: { problems: ['assets: ping -> pong -> ping start each other through their outlets: each run would start the next'], warnings: [] },
    pong: { problems: ['assets: ping -> pong -> ping start each other through their outlets: each run would start the next'], warnings: [] },
  });
});

test('dags validate names a bad condition with its position, and warns of an asset no DAG of the project updates', async () => {
  const dir = await tempDir('baton-assets-');
  await writeFile(
    path.join(dir, 'producer.ts'),
    `import { command, dag } from 'baton/sdk';
export default dag({ dagId: 'producer', schedule: '@daily', startDate: '2024-01-01' }, () => {
  command('load', { argv: ['load'], outlets: ['orders'] });
});
`,
  );
  await writeFile(
    path.join(dir, 'consumer.ts'),
    `import { dag, empty } from 'baton/sdk';
export default dag({ dagId: 'consumer', schedule: { assets: 'orders & customers' }, startDate: '2024-01-01' }, () => void empty('report'));
`,
  );
  await writeFile(
    path.join(dir, 'typo.ts'),
    `import { dag, empty } from 'baton/sdk';
export default dag({ dagId: 'typo', schedule: { assets: 'orders & | customers' }, startDate: '2024-01-01' }, () => void empty('report'));
`,
  );
  assert.deepEqual(
    checkDags(dir).map((c) => [c.dagId, c.problems, c.warnings]),
    [
      ['consumer', [], ['schedule: no DAG of this project updates customers; only an external system can (baton assets emit)']],
      ['producer', [], []],
      ['typo', ['schedule.assets: expected an asset name or "(" at position 10, found "|"'], []],
    ],
  );
});

test('baton assets emit checks the asset and the partition as it parses them, and writes a timestamp as run keys do', () => {
  assert.equal(assetArg('warehouse.orders'), 'warehouse.orders');
  assert.throws(() => assetArg('warehouse orders'), { message: 'asset name "warehouse orders": a letter, then letters, digits, _ . : and -' });
  assert.throws(() => assetArg(''), { message: 'an asset name is empty' });
  assert.equal(partitionArg('2024-01-15'), '2024-01-15');
  assert.equal(partitionArg('2024-01-15T14:00:00+01:00'), '2024-01-15T13:00:00+00:00');
  assert.throws(() => partitionArg('2024-01-15T14:00'), /--partition "2024-01-15T14:00" has no offset/);
  assert.throws(() => partitionArg('yesterday'), /--partition "yesterday" is not a date in the form YYYY-MM-DD/);
});
