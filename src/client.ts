import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { Config } from './config';

/**
 * The connection options for the client and the worker alike: address, TLS (mTLS with a
 * client certificate) and API key. The files are read here, at connect time.
 */
export function temporalConnectionOptions({ temporal }: Pick<Config, 'temporal'>): { address: string; tls?: TLSConfig | false; apiKey?: string } {
  const read = (file: string) => readFileSync(file);
  const tls: TLSConfig | false = temporal.tls
    ? {
        ...(temporal.tls.serverName ? { serverNameOverride: temporal.tls.serverName } : {}),
        ...(temporal.tls.serverCaCertPath ? { serverRootCACertificate: read(temporal.tls.serverCaCertPath) } : {}),
        ...(temporal.tls.clientCertPath ? { clientCertPair: { crt: read(temporal.tls.clientCertPath), key: read(temporal.tls.clientKeyPath!) } } : {}),
      }
    : false;
  return { address: temporal.address, tls, ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}) };
}

/** A Temporal client for the configured address and namespace. Close its connection when done. */
export async function connectClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The Web UI page of a run. */
export function webUiRunUrl(config: Pick<Config, 'webUiUrl' | 'temporal'>, workflowId: string, runId?: string): string {
  const base = `${config.webUiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
