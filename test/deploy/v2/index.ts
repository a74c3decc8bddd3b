/**
 * deploy_demo changed: an audit task between wait_for_file and load, shipped behind
 * patched(). The version is decided at the top of the run: a run started on the old code
 * replays here without the marker (patched() is false) and keeps its old path to the end,
 * even though it reaches the new task only after the deploy; a new run records the marker.
 */
import { patched } from '@temporalio/workflow';
import { chain, runDag } from '../../../workflows/dag';
import { DEPLOY_DEMO, noop, waitForFile, type DeployDemoInput, type DeployDemoResult } from '../dag';

export async function deployDemo(input: DeployDemoInput): Promise<DeployDemoResult> {
  const withAudit = patched('deploy-demo-audit');
  return runDag(DEPLOY_DEMO, input, chain('wait_for_file', 'audit', 'load'), async (run) => {
    await run.tasks.run('wait_for_file', () => waitForFile(run));
    if (withAudit) {
      await run.tasks.run('audit', () => noop.noopTask({ taskId: 'audit', ds: run.ds }));
    } else {
      run.tasks.remove('audit');
    }
    await run.tasks.run('load', () => noop.noopTask({ taskId: 'load', ds: run.ds }));
    return run.tasks.list();
  });
}
