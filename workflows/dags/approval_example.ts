/**
 * A person signs off the day's report before it is published: the run waits for an answer (no
 * worker slot held), with the share of orders to flag as a typed value, and a rejection skips the
 * publish. The run must be done 9 hours after the day ends; those on call hear of the approval
 * waiting and of a missed deadline.
 *
 *   baton trigger approval_example --ds 2024-05-06
 *   baton runs approve approval_example --ds 2024-05-06 --task sign_off --value '{"flagShare": 0.02}'
 *   baton runs reject approval_example --ds 2024-05-06 --task sign_off --reason 'totals are off'
 */
import { approval, command, dag, z } from 'baton/sdk';

export default dag(
  {
    dagId: 'approval_example',
    description: "The day's report, published once a person signs it off",
    schedule: '0 7 * * *',
    startDate: '2024-01-01',
    tags: ['example', 'approval'],
    // Each run waits for a person: `baton unpause approval_example` when someone answers them.
    pausedOnCreation: true,
    maxActiveRuns: 4,
    deadline: { after: 'data_interval_end', within: '9h' },
    notifiers: [{ email: ['oncall@example.com'], on: ['approval', 'deadline', 'failure'] }],
    defaultArgs: { owner: 'data-team', retries: 1, retryDelay: '30s' },
  },
  ({ ds }) => {
    const report = command('build_report', { argv: ['echo', `report for ${ds}`] });
    const signOff = approval('sign_off', {
      upstream: [report],
      subject: `Publish the report for ${ds}?`,
      body: `build_report said: ${report.tail}`,
      schema: z.object({ flagShare: z.number().min(0).max(1) }),
      timeout: '8h',
      onTimeout: 'reject',
    });
    command('publish', { argv: ['echo', `published ${ds}, flagging ${signOff.value.flagShare}, signed off by ${signOff.by}`] });
  },
);
