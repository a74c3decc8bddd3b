/**
 * The console's pure parts: the task table a run keeps in its memo, who may use the console
 * (tokens, sessions, CSRF), the trigger form from a params schema, the DAGs page's filters, the
 * grid's folded rows and escaping, and the graph's layout.
 */
import assert from '../support/assert';
import { test } from '@jest/globals';
import { command, dag, empty, group, z } from 'baton/sdk';
import type { TaskRecord } from '../../src/contracts';
import type { DagDefinition } from '../../src/dags';
import { readRunMemo, RUN_MEMO_NOTES, RUN_MEMO_PREFIX, runMemo } from '../../src/run-memo';
import { compileDag } from '../../src/sdk/compile';
import { accessFor, csrfMatches, csrfToken, isLoopback, sessionValue, userOfSession, userOfToken } from '../../src/console/access';
import type { DagRow } from '../../src/console/data';
import { layoutDag } from '../../src/console/graph';
import { paramFields, problemsByField, readTriggerForm } from '../../src/console/trigger-form';
import { raw } from '../../src/console/html';
import { dagsPage, filterDags, gridFragment, gridRows, layout } from '../../src/console/views';
import { outcome, runPanel, taskPanel } from '../../src/console/panels';
import { assetsPage, backfillList, backfillPage, loginPage, triggerForm, triggerPage } from '../../src/console/pages';

const base = { startDate: '2024-01-01', schedule: '@daily' } as const;

test("a run's memo keeps each task under a key of its own, a long error cut; a foreign memo reads as none", () => {
  const tasks: TaskRecord[] = [
    { taskId: 'load', state: 'success', startedAt: '2024-01-15T06:00:00.000Z', durationMs: 1200, tries: 2, output: { rows: 10, note: 'n'.repeat(300) } },
    { taskId: 'check', state: 'failed', error: 'x'.repeat(5_000) },
  ];
  const memo = runMemo(tasks, ['load marked success by dana']);
  assert.deepEqual(Object.keys(memo), [`${RUN_MEMO_PREFIX}load`, `${RUN_MEMO_PREFIX}check`, RUN_MEMO_NOTES]);
  const load = memo[`${RUN_MEMO_PREFIX}load`] as TaskRecord;
  assert.equal(String(load.output!.note).length, 200);
  assert.deepEqual({ ...load, output: { rows: load.output!.rows } }, { ...tasks[0], output: { rows: 10 } });
  const check = memo[`${RUN_MEMO_PREFIX}check`] as TaskRecord;
  assert.equal(check.error!.length, 1_000);
  assert.ok(check.error!.endsWith('…'));
  // What a list gives back: the run's keys merged with the memo it was started with.
  const read = readRunMemo({ owner: 'data-team', description: 'x', ...memo });
  assert.deepEqual(
    read?.tasks.map((t) => `${t.taskId}:${t.state}`),
    ['load:success', 'check:failed'],
  );
  assert.deepEqual(read?.notes, ['load marked success by dana']);

  assert.equal(readRunMemo(undefined), undefined);
  assert.equal(readRunMemo({ owner: 'data-team' }), undefined);
  assert.deepEqual(
    readRunMemo({ [`${RUN_MEMO_PREFIX}a`]: { taskId: 'a', state: 'bogus' }, [`${RUN_MEMO_PREFIX}b`]: { taskId: 'b', state: 'running' } })?.tasks,
    [{ taskId: 'b', state: 'running' }],
  );
});

test('the console on another address refuses to start without a token; tokens, sessions and CSRF tokens are checked', () => {
  const me = () => 'dana';
  assert.deepEqual(['127.0.0.1', '127.1.2.3', '::1', 'localhost', '0.0.0.0', '10.0.0.5', '::'].map(isLoopback), [true, true, true, true, false, false, false]);
  assert.equal(accessFor('127.0.0.1', {}, me).open, true);
  assert.throws(() => accessFor('0.0.0.0', {}, me), /the console on 0\.0\.0\.0 would be open to the network: set BATON_CONSOLE_TOKEN/);
  assert.throws(() => accessFor('0.0.0.0', { BATON_CONSOLE_TOKEN: 'short' }, me), /BATON_CONSOLE_TOKEN is shorter than 16 characters/);
  assert.throws(() => accessFor('0.0.0.0', { BATON_CONSOLE_USERS: 'lee:short' }, me), /the token of lee is shorter than 16 characters/);
  assert.throws(() => accessFor('0.0.0.0', { BATON_CONSOLE_USERS: '<b>:0123456789abcdef' }, me), /a name is letters, digits and \._@-/);

  const access = accessFor(
    '0.0.0.0',
    { BATON_CONSOLE_USERS: 'lee:lee-token-0123456789, kim:kim-token-0123456789', BATON_CONSOLE_TOKEN: 'shared-token-0123456789' },
    me,
  );
  assert.equal(access.open, false);
  assert.deepEqual(
    ['lee-token-0123456789', 'kim-token-0123456789', 'shared-token-0123456789', 'lee-token-012345678', ''].map((t) => userOfToken(access, t)),
    ['lee', 'kim', 'dana', undefined, undefined],
  );

  const now = Date.UTC(2026, 11, 6);
  const session = sessionValue(access, 'lee', now);
  assert.equal(userOfSession(access, session, now + 3_600_000), 'lee');
  assert.equal(userOfSession(access, session, now + 13 * 3_600_000), undefined, 'expired after 12 hours');
  const [name, until, sig] = session.split('.');
  assert.equal(userOfSession(access, `${Buffer.from('kim').toString('base64url')}.${until}.${sig}`, now), undefined, 'another name, same signature');
  assert.equal(userOfSession(access, `${name}.${Number(until) + 1}.${sig}`, now), undefined, 'a longer life, same signature');
  assert.equal(userOfSession(accessFor('0.0.0.0', { BATON_CONSOLE_TOKEN: 'shared-token-0123456789' }, me), session, now), undefined, 'signed by another start');

  assert.equal(csrfMatches(access, 'cookie-id', csrfToken(access, 'cookie-id')), true);
  assert.equal(csrfMatches(access, 'other-id', csrfToken(access, 'cookie-id')), false);
  assert.equal(csrfMatches(access, undefined, csrfToken(access, 'cookie-id')), false);
  assert.equal(csrfMatches(access, 'cookie-id', undefined), false);
});

const withParams = compileDag(
  dag(
    {
      ...base,
      dagId: 'params_dag',
      params: z.object({
        limit: z.number().int().min(1).default(10).describe('rows at most'),
        mode: z.enum(['fast', 'full']).default('fast'),
        dry_run: z.boolean().default(false),
        region: z.string(),
        extra: z.object({ a: z.number() }).optional(),
      }),
    },
    () => void empty('a'),
  ),
);

test('the trigger form has a field per param with its type, default and description; a submitted form gives the key and conf, or problems by field', () => {
  const fields = paramFields(withParams.file.params);
  assert.deepEqual(fields, [
    { name: 'limit', type: 'integer', required: false, default: 10, description: 'rows at most' },
    { name: 'mode', type: 'choice', required: false, default: 'fast', options: ['fast', 'full'] },
    { name: 'dry_run', type: 'boolean', required: false, default: false },
    { name: 'region', type: 'string', required: true },
    { name: 'extra', type: 'json', required: false },
  ]);
  const dagDef = withParams.definition as DagDefinition;
  assert.deepEqual(
    readTriggerForm(dagDef, fields, {
      date: '2024-05-06',
      conf: '{"note": "by hand", "limit": 1}',
      'param.limit': '25',
      'param.mode': 'full',
      'param.dry_run.shown': '1',
      'param.dry_run': 'on',
      'param.region': 'eu',
      'param.extra': '{"a": 1}',
    }),
    { key: '2024-05-06', conf: { note: 'by hand', limit: 25, mode: 'full', dry_run: true, region: 'eu', extra: { a: 1 } } },
  );
  // An unticked box says false; an empty field is left to its default.
  assert.deepEqual(readTriggerForm(dagDef, fields, { date: '2024-05-06', 'param.dry_run.shown': '1', 'param.limit': '' }), {
    key: '2024-05-06',
    conf: { dry_run: false },
  });
  // Not a number: passed on as written, for the schema to name in its words.
  assert.deepEqual(readTriggerForm(dagDef, fields, { date: '2024-05-06', 'param.limit': 'ten' }), { key: '2024-05-06', conf: { limit: 'ten' } });
  assert.deepEqual(readTriggerForm(dagDef, fields, { date: '2024-02-30', conf: '{"a": tru', 'param.extra': '{' }), {
    problems: {
      date: ['ds "2024-02-30" is not a real calendar date'],
      conf: [`--conf is not JSON: ${jsonError('{"a": tru')}`],
      extra: [`params.extra: not JSON: ${jsonError('{')}`],
    },
  });
  assert.deepEqual(readTriggerForm(dagDef, fields, { date: '', conf: '[1]' }), {
    problems: { date: ["give the run's logical date, YYYY-MM-DD"], conf: ['--conf must be a JSON object'] },
  });
  assert.deepEqual(problemsByField(['params.limit: Too small: expected number to be >=1 (conf gave 0)', 'params: Unrecognized key: "x"'], fields), {
    limit: ['params.limit: Too small: expected number to be >=1 (conf gave 0)'],
    conf: ['params: Unrecognized key: "x"'],
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

const grouped = compileDag(
  dag({ ...base, dagId: 'grouped' }, () => {
    const start = empty('start');
    const load = group('load', () => {
      command('eu', { upstream: [start], argv: ['true'] });
      command('us', { upstream: [start], argv: ['true'] });
    });
    command('report', { upstream: [load], argv: ['true'] });
  }),
);

test("the grid folds a group into one row with its members after it, and shows a run's cells by state, escaped", async () => {
  assert.deepEqual(gridRows(grouped), [
    { id: 'start' },
    { id: 'load', members: ['load.eu', 'load.us'] },
    { id: 'load.eu', group: 'load' },
    { id: 'load.us', group: 'load' },
    { id: 'report' },
  ]);
  const run = {
    key: '2024-05-06',
    workflowId: 'grouped-2024-05-06',
    runId: 'r1',
    status: 'FAILED',
    startedAt: '2024-05-06T06:00:00.000Z',
    closedAt: '2024-05-06T06:00:10.000Z',
    tasks: [
      { taskId: 'start', state: 'success' },
      { taskId: 'load.eu', state: 'success' },
      { taskId: 'load.us', state: 'failed', error: '<script>alert(1)</script>' },
      { taskId: 'report', state: 'upstream_failed' },
    ] as TaskRecord[],
  };
  const text = String(
    await gridFragment(grouped, [run, { ...run, key: '2024-05-07', workflowId: 'grouped-2024-05-07', tasks: undefined }], { last: 25, version: 'v"1' }),
  );
  assert.match(text, /aria-label="load 2024-05-06: failed \(1 failed, 1 success\)"/);
  assert.match(text, /aria-label="load\.us 2024-05-06: failed"/);
  assert.match(text, /<tr class="member" data-row="load\.eu" data-member-of="load" hidden>/);
  assert.match(text, /aria-label="run 2024-05-06: failed, 10\.0s"/);
  assert.match(text, /<span class="c s-unknown" title="not read">\?<\/span>/);
  assert.match(text, /&v=v&quot;1"/);
  assert.ok(!text.includes('<script>'));
});

test("the DAGs page filters by id, tag, owner and state; the graph is laid out left to right with a setup's edge to its teardown marked", () => {
  const row = (dagId: string, tags: string[], owner: string, paused: boolean, last?: string): DagRow => ({
    dag: { dagId, tags, defaultArgs: { owner } } as unknown as DagDefinition,
    schedule: '@daily',
    paused,
    lastRuns: last ? [{ key: '2024-05-06', status: last }] : [],
  });
  const rows = [
    row('orders', ['etl'], 'data', false, 'FAILED'),
    row('customers', ['etl', 'crm'], 'crm', true, 'COMPLETED'),
    row('adhoc', [], 'data', false, 'RUNNING'),
  ];
  const ids = (f: Parameters<typeof filterDags>[1]) => filterDags(rows, f).map((r) => r.dag.dagId);
  assert.deepEqual(ids({}), ['orders', 'customers', 'adhoc']);
  assert.deepEqual(ids({ q: 'CUST' }), ['customers']);
  assert.deepEqual(ids({ tag: 'etl' }), ['orders', 'customers']);
  assert.deepEqual(ids({ owner: 'data' }), ['orders', 'adhoc']);
  assert.deepEqual(ids({ state: 'paused' }), ['customers']);
  assert.deepEqual(ids({ state: 'active' }), ['orders', 'adhoc']);
  assert.deepEqual(ids({ state: 'failed' }), ['orders']);
  assert.deepEqual(ids({ state: 'running' }), ['adhoc']);
  assert.deepEqual(ids({ state: 'succeeded', tag: 'crm' }), ['customers']);

  const withTeardown = compileDag(
    dag({ ...base, dagId: 'setup_teardown' }, () => {
      const create = command('create', { argv: ['true'], setup: true });
      const work = command('work', { upstream: [create], argv: ['true'] });
      command('drop', { upstream: [create, work], argv: ['true'], teardown: true });
    }),
  );
  const layout = layoutDag(withTeardown, [{ taskId: 'work', state: 'failed' }]);
  const x = Object.fromEntries(layout.nodes.map((n) => [n.taskId, n.x]));
  assert.ok(x.create < x.work && x.work < x.drop, JSON.stringify(x));
  assert.deepEqual(layout.edges.map((e) => `${e.from}->${e.to}${e.teardown ? ' (teardown)' : ''}`).sort(), [
    'create->drop (teardown)',
    'create->work',
    'work->drop',
  ]);
  assert.deepEqual(
    layout.nodes.map((n) => [n.taskId, n.state ?? '-', n.setup, n.teardown]),
    [
      ['create', '-', true, false],
      ['work', 'failed', false, false],
      ['drop', '-', false, true],
    ],
  );
});

const ctx = { csrf: 'tok"en', webUiUrl: 'http://localhost:8233', namespace: 'default' };

test('the pages escape what they show: the DAGs page, a task panel (a mapped task, an approval that waits), the trigger form with its problems, backfills, assets, sign-in', async () => {
  const text = async (fragment: unknown) => String(await fragment);
  const row = (dagId: string, paused: boolean | 'no schedule'): DagRow => ({
    dag: { dagId, tags: ['<b>tag</b>'], defaultArgs: { owner: 'o&o' }, timezone: 'UTC' } as unknown as DagDefinition,
    schedule: '@daily',
    nextRun: '2024-05-07',
    paused,
    lastRuns: [{ key: '2024-05-06', status: 'FAILED' }],
  });
  const dags = await text(dagsPage({ ...ctx, user: 'lee' }, [row('a', true), row('b', 'no schedule')], { q: '<x>' }));
  assert.match(dags, /<p class="count">0 of 2 DAGs<\/p>/);
  assert.match(dags, /value="&lt;x&gt;"/);
  const all = await text(dagsPage(ctx, [row('a', true), row('b', false)], {}));
  assert.match(all, /&lt;b&gt;tag&lt;\/b&gt;/);
  assert.match(all, /<button type="submit">Unpause<\/button>/);
  assert.match(all, /<button type="submit">Pause<\/button>/);
  assert.match(await text(layout({ ...ctx, user: 'lee' }, 't', raw(dags))), /hx-headers='\{"X-CSRF-Token": "tok&quot;en"\}'/);

  const run = { key: '2024-05-06', workflowId: 'w-2024-05-06', runId: 'r', status: 'RUNNING', startedAt: '2024-05-06T06:00:00.000Z', notes: ['<i>note</i>'] };
  const approval = { taskId: 'sign_off', definition: { operator: 'approval', options: ['a', 'b'], schema: {} }, triggerRule: 'all_success' } as never;
  const waiting = await text(
    taskPanel(
      ctx,
      'd',
      run,
      approval,
      { taskId: 'sign_off', state: 'running', output: { waiting: '<script>x</script>' } },
      { logLines: ['l<1>'], mask: (t) => t },
    ),
  );
  assert.match(waiting, /<form class="op approval"/);
  assert.match(waiting, /value="a"/);
  assert.match(waiting, /<textarea name="value"/);
  assert.match(waiting, /&lt;script&gt;x&lt;\/script&gt;/);
  assert.match(waiting, /l&lt;1&gt;/);
  assert.ok(!waiting.includes('action="/dags/d/runs/2024-05-06/tasks/sign_off/clear"'), 'a running run is not cleared');
  const mapped = await text(
    taskPanel(
      ctx,
      'd',
      { ...run, status: 'COMPLETED' },
      undefined,
      { taskId: 'each', state: 'failed', error: 'secret://u:p@h', mapped: { total: 3, success: 2, failed: 1, reused: 0, batches: [] } },
      { instances: [{ taskId: 'each[2]', state: 'failed', error: 'boom' }], logLines: [], mask: (t) => t.replace('u:p@', '***@') },
    ),
  );
  assert.match(mapped, /2 succeeded, 1 failed, 0 kept, of 3/);
  assert.match(mapped, /each\[2\] failed — boom/);
  assert.match(mapped, /secret:\/\/\*\*\*@h/);
  assert.match(mapped, /No lines in this machine's worker logs/);
  assert.match(await text(runPanel(ctx, 'd', run)), /Cancel the run/);
  assert.match(await text(runPanel(ctx, 'd', { ...run, status: 'FAILED', closedAt: '2024-05-06T06:01:00.000Z' })), /Run it again whole/);
  assert.match(await text(outcome(false, ['<no>'])), /<div class="error" role="alert"><p>&lt;no&gt;<\/p><\/div>/);

  const fields = paramFields(withParams.file.params);
  const form = await text(
    triggerForm(
      ctx,
      withParams,
      fields,
      { date: '<d>', 'param.mode': 'full', 'param.dry_run': 'on' },
      { date: ['bad <date>'], limit: ['too big'], run: ['no worker'] },
      true,
    ),
  );
  assert.match(form, /Logical timestamp/);
  assert.match(form, /value="&lt;d&gt;"/);
  assert.match(form, /<p class="field-error" id="err-date" role="alert">bad &lt;date&gt;<\/p>/);
  assert.match(form, /aria-invalid="true" aria-describedby="err-limit"/);
  assert.match(form, /<option value="full" selected>full<\/option>/);
  assert.match(form, /name="param.dry_run"\s+checked/);
  assert.match(form, /<textarea id="param.extra"/);
  assert.match(form, /<p>no worker<\/p>/);
  assert.match(await text(triggerPage(withParams, raw(form))), /<h1>Trigger params_dag<\/h1>/);

  const progress = { total: 4, done: 3, succeeded: 2, failed: 1, skipped: 0, running: ['2024-05-04'], failedDates: [], startedAt: 0 };
  assert.match(
    (await text(backfillList([{ workflowId: 'b1', status: 'RUNNING', progress }]))).replace(/\s+/g, ' '),
    /3\/4: 2 succeeded, 1 failed, 0 skipped, running 2024-05-04/,
  );
  assert.match(await text(backfillList([])), /No backfills yet/);
  assert.match(await text(backfillPage(ctx, withParams, [], outcome(true, ['ok']))), /<div class="ok" role="status"><p>ok<\/p><\/div>/);
  const assets = await text(
    assetsPage(
      [
        {
          asset: 'orders<1>',
          producers: [{ dagId: 'p', taskId: 't' }],
          consumers: [{ dagId: 'c', condition: 'orders' }],
          updates: 2,
          lastUpdate: { id: 'u', asset: 'orders<1>', partition: '2024-05-06', at: '2024-05-06T07:00:00.000Z', source: { dagId: 'p' } as never },
        },
      ],
      new Map([['orders<1>', [{ dagId: 'c', key: '2024-05-06', status: 'COMPLETED' }]]]),
    ),
  );
  assert.match(assets, /<code>orders&lt;1&gt;<\/code>/);
  assert.match(assets, /2024-05-06 07:00:00 <span class="muted">partition 2024-05-06<\/span>/);
  assert.match(assets, /class="mark r-completed"/);
  assert.match(await text(loginPage('c"s', true)), /value="c&quot;s"[\s\S]*That token is not one of this console's/);
});
