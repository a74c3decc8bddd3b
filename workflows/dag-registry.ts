/**
 * The DAG files in the workflow bundle: the generated entry (src/dag-files.ts) registers each
 * file's definition, and the bundle's default workflow runs a DAG by its workflow type. A
 * definition that does not compile fails its runs with the problems found (the worker refuses
 * to start before that, so this is a guard, never the first report).
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { DagRunInput } from '../src/contracts';
import { compileDag, type CompiledDag } from '../src/sdk/compile';
import type { DagFileDefinition } from '../src/sdk/types';
import { runDagFile, type DagFileRunResult } from './engine';

const registry = new Map<string, CompiledDag | Error>();

export function registerDagFiles(definitions: readonly DagFileDefinition[]): void {
  for (const definition of definitions) {
    try {
      const dag = compileDag(definition);
      registry.set(dag.workflowType, dag);
    } catch (err) {
      registry.set(definition?.workflowType ?? definition?.dagId ?? '?', err as Error);
    }
  }
}

/** The compiled DAG of a workflow type, when a DAG file has it. */
export function registeredDag(workflowType: string): CompiledDag | undefined {
  const found = registry.get(workflowType);
  return found instanceof Error ? undefined : found;
}

/** The bundle's default workflow: a run of the DAG file whose workflow type this run has. */
export async function dagFileWorkflow(input?: Partial<DagRunInput>): Promise<DagFileRunResult> {
  const { workflowType } = workflowInfo();
  const dag = registry.get(workflowType);
  if (!dag) {
    const known = [...registry.keys()].join(', ') || 'none';
    throw ApplicationFailure.nonRetryable(`no DAG file under workflows/dags/ has workflow type ${workflowType} (DAG files here: ${known})`, 'UnknownDag');
  }
  if (dag instanceof Error) throw ApplicationFailure.nonRetryable(dag.message, 'InvalidDagFile');
  return runDagFile(dag, input);
}
