import { Client, Connection } from '@temporalio/client';
import type { Config } from './config';

/** A Temporal client for the configured address and namespace. Close its connection when done. */
export async function connectClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The Web UI page of a run. */
export function webUiRunUrl(config: Pick<Config, 'webUiUrl' | 'temporal'>, workflowId: string, runId?: string): string {
  const base = `${config.webUiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
