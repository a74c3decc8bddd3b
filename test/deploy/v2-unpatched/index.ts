/** The same change as v2 made without patched(): what a deploy must never ship under running runs. */
import { chain, runDag } from '../../../workflows/dag';
import { DEPLOY_DEMO, noop, waitForFile, type DeployDemoInput, type DeployDemoResult } from '../dag';

export async function deployDemo(input: DeployDemoInput): Promise<DeployDemoResult> {
  return runDag(DEPLOY_DEMO, input, chain('wait_for_file', 'audit', 'load'), async (run) => {
    await run.tasks.run('wait_for_file', () => waitForFile(run));
    await run.tasks.run('audit', () => noop.noopTask({ taskId: 'audit', ds: run.ds }));
    await run.tasks.run('load', () => noop.noopTask({ taskId: 'load', ds: run.ds }));
    return run.tasks.list();
  });
}
