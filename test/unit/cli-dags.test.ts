/**
 * What `baton dags validate`, `show` and `record` compute (src/cli/dags.ts), in process: every
 * DAG checked, the graph drawn in its three formats, the next free history name.
 */
import assert from '../support/assert';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '@jest/globals';
import { checkDags, DagCommandError, drawDag, historyFileFor } from '../../src/cli/dags';
import { branch, command, dag, empty, group } from 'baton/sdk';
import { compileDag } from '../../src/sdk/compile';
import { repoRoot, tempDir } from '../support';

const probe = compileDag(
  dag({ dagId: 'draw_probe', schedule: '0 6 * * *', timezone: 'Europe/Berlin', startDate: '2024-01-01' }, () => {
    const pick = branch('pick', { choose: () => 'a' });
    const a = command('a', { upstream: [pick], argv: ['a'] });
    const b = command('b', { upstream: [pick], argv: ['b'] });
    const join = empty('join', { upstream: [a, b], triggerRule: 'none_failed_min_one_success' });
    empty('cleanup', { upstream: [join], teardown: true });
  }),
);

test('dags validate checks the reference pipelines and every DAG file', () => {
  const checked = checkDags().map((c) => [c.dagId, c.tasks, c.problems]);
  assert.deepEqual(checked, [
    ['approval_example', 3, []],
    ['customers_example', 4, []],
    ['fan_in_example', 4, []],
    ['fiscal_calendar_example', 4, []],
    ['mapped_example', 3, []],
    ['orders-etl', 3, []],
    ['orders_daily_etl', 11, []],
  ]);
});

test('dags validate refuses a DAG file whose dag_id another DAG has, naming both', async () => {
  const dir = await tempDir('baton-dags-');
  const source = `import { empty, dag } from 'baton/sdk';
export default dag({ dagId: 'orders-etl', schedule: '@daily', startDate: '2024-01-01' }, () => void empty('a'));
`;
  await writeFile(path.join(dir, 'a.ts'), source);
  await writeFile(path.join(dir, 'copy.ts'), source);
  const checked = checkDags(dir).map((c) => [c.dagId, c.problems]);
  assert.deepEqual(checked, [
    ['orders-etl', []],
    ['orders-etl', [`its dag_id is also ${path.relative(repoRoot, path.join(dir, 'a.ts'))}'s`]],
  ]);
});

test('dags validate refuses a triggerDag of a DAG the project does not have, naming the task and the DAGs it has', async () => {
  const dir = await tempDir('baton-dags-');
  await writeFile(
    path.join(dir, 'upstream.ts'),
    `import { dag, triggerDag } from 'baton/sdk';
export default dag({ dagId: 'upstream', schedule: '@daily', startDate: '2024-01-01' }, () => {
  triggerDag('run_downstream', { dag: 'downstream' });
  triggerDag('run_missing', { dag: 'downstream_v2' });
});
`,
  );
  await writeFile(
    path.join(dir, 'downstream.ts'),
    `import { dag, empty } from 'baton/sdk';
export default dag({ dagId: 'downstream', schedule: '@daily', startDate: '2024-01-01' }, () => void empty('a'));
`,
  );
  assert.deepEqual(
    checkDags(dir).map((c) => [c.dagId, c.problems]),
    [
      ['downstream', []],
      ['upstream', ['task run_missing: triggerDag\'s dag "downstream_v2" is no DAG of this project (downstream, upstream)']],
    ],
  );
});

test("dags validate refuses a waitForDag of a DAG the project does not have, of a task that DAG does not have, and of the DAG's own run", async () => {
  const dir = await tempDir('baton-dags-');
  await writeFile(
    path.join(dir, 'weekly.ts'),
    `import { dag, waitForDag } from 'baton/sdk';
export default dag({ dagId: 'weekly', schedule: '0 6 * * 1', startDate: '2024-01-01' }, () => {
  waitForDag('sunday_loaded', { dag: 'daily', task: 'load', shift: { days: -1 } });
  waitForDag('sunday_typo', { dag: 'daily', task: 'laod', shift: { days: -1 } });
  waitForDag('missing', { dag: 'daily_v2' });
  waitForDag('itself', { dag: 'weekly', shift: { days: 1, hours: -24 } });
  waitForDag('last_week', { dag: 'weekly', shift: { days: -7 } });
});
`,
  );
  await writeFile(
    path.join(dir, 'daily.ts'),
    `import { dag, empty } from 'baton/sdk';
export default dag({ dagId: 'daily', schedule: '@daily', startDate: '2024-01-01' }, () => {
  const extract = empty('extract');
  empty('load', { upstream: [extract] });
});
`,
  );
  assert.deepEqual(
    checkDags(dir).map((c) => [c.dagId, c.problems]),
    [
      ['daily', []],
      [
        'weekly',
        [
          'task sunday_typo: waitForDag\'s task "laod" is no task of daily (extract, load)',
          'task missing: waitForDag\'s dag "daily_v2" is no DAG of this project (daily, weekly)',
          'task itself: waitForDag waits for its own run (weekly, the same ds); give another ds or a shift, or make the task upstream',
        ],
      ],
    ],
  );
});

test("dags validate names a group's task by its dotted id, and says how a template reads it", async () => {
  const dir = await tempDir('baton-dags-');
  await writeFile(
    path.join(dir, 'grouped.ts'),
    `import { command, dag, group } from 'baton/sdk';
export default dag({ dagId: 'grouped', schedule: '@daily', startDate: '2024-01-01' }, () => {
  group('load', () => {
    command('region_eu', { argv: [] });
    command('region_us', { argv: ['us', '{{ xcom.load.region_eu.tail }}'] });
  });
});
`,
  );
  assert.deepEqual(
    checkDags(dir).map((c) => [c.dagId, c.problems]),
    [
      [
        'grouped',
        [
          'task load.region_eu: command argv: the program to run, then its arguments',
          "task load.region_us: {{ xcom.load.region_eu.tail }}: the DAG has no task load; load is a group, whose task load.region_eu is read as {{ xcom['load.region_eu'].tail }}",
        ],
      ],
    ],
  );
});

test('dags show draws the graph as text, Mermaid and DOT', () => {
  assert.deepEqual(drawDag(probe, 'text'), [
    'draw_probe: 0 6 * * * Europe/Berlin, 5 tasks',
    '  pick     branch       (start)',
    '  a        command      <- pick',
    '  b        command      <- pick',
    '  join     empty        <- a, b  [none_failed_min_one_success]',
    '  cleanup  empty        <- join  [teardown]',
  ]);
  assert.deepEqual(drawDag(probe, 'mermaid'), [
    'flowchart LR',
    '  pick["pick<br/>branch"]',
    '  a["a<br/>command"]',
    '  b["b<br/>command"]',
    '  join["join<br/>empty (none_failed_min_one_success)"]',
    '  cleanup["cleanup<br/>empty (teardown)"]',
    '  pick --> a',
    '  pick --> b',
    '  a --> join',
    '  b --> join',
    '  join -.-> cleanup',
  ]);
  const dot = drawDag(probe, 'dot');
  assert.equal(dot[0], 'digraph "draw_probe" {');
  assert.ok(dot.includes('  "cleanup" [label="cleanup\\nempty\\nteardown", style=dashed];'), dot.join('\n'));
  assert.ok(dot.includes('  "join" -> "cleanup" [style=dashed];'));
  assert.equal(dot.at(-1), '}');
});

test('dags show draws a group as a line of its own, its tasks indented under it; Mermaid and DOT take the dotted ids', () => {
  const grouped = compileDag(
    dag({ dagId: 'grouped_probe', schedule: '@daily', startDate: '2024-01-01' }, () => {
      const extract = command('extract', { argv: ['extract'] });
      const load = group('load', { upstream: [extract] }, () => {
        command('region_eu', { argv: ['eu'] });
        group('checks', () => void empty('rows'));
      });
      empty('report', { upstream: [load] });
    }),
  );
  assert.deepEqual(drawDag(grouped, 'text'), [
    'grouped_probe: @daily UTC, 4 tasks',
    '  extract               command      (start)',
    '  load                  group        2 tasks',
    '    load.region_eu      command      <- extract',
    '    load.checks         group        1 task',
    '      load.checks.rows  empty        <- extract',
    '  report                empty        <- load.region_eu, load.checks.rows',
  ]);
  assert.deepEqual(drawDag(grouped, 'mermaid').slice(-2), ['  load.region_eu --> report', '  load.checks.rows --> report']);
  assert.ok(drawDag(grouped, 'dot').includes('  "load.checks.rows" -> "report";'));
});

test('dags record takes the next free version of a scenario, and refuses names a history cannot have', async () => {
  const dir = await tempDir('baton-histories-');
  assert.equal(historyFileFor('fan_in_example', 'happy', dir), path.join(dir, 'fan_in_example-happy-v1.json'));
  await writeFile(path.join(dir, 'fan_in_example-happy-v1.json'), '{}');
  await writeFile(path.join(dir, 'fan_in_example-happy-v2.json'), '{}');
  assert.equal(historyFileFor('fan_in_example', 'happy', dir), path.join(dir, 'fan_in_example-happy-v3.json'));
  assert.equal(historyFileFor('fan_in_example', 'retry', path.join(dir, 'not-yet')), path.join(dir, 'not-yet', 'fan_in_example-retry-v1.json'));
  assert.throws(
    () => historyFileFor('orders-etl', 'happy', dir),
    (err: unknown) => err instanceof DagCommandError && /workflow type orders-etl has characters/.test(err.message),
  );
  assert.throws(() => historyFileFor('fan_in_example', 'Happy', dir), /--scenario "Happy": lower-case letters, digits and -/);
});
