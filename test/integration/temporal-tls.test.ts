/**
 * Temporal over mTLS, as with Temporal Cloud or a secured cluster: a TLS front that demands a
 * client certificate signed by its CA (certificates made here with openssl) passes gRPC on to
 * the dev server. The real worker process and the client connect through it with the Temporal
 * CLI's TEMPORAL_TLS_* variables and run a DAG; without the client certificate the handshake
 * is refused.
 */
import assert from '../support/assert';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import tls from 'node:tls';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { dagRunWorkflowId } from '../../src/dags';
import type { NoopDagResult } from '../../workflows/noop-dag';
import { execFileAsync, noopDagDefinition, startWorkerProcess, tempDir, type RunningWorker } from '../support';

const SERVER_NAME = 'temporal.baton.test';
let dir = '';
let front: tls.Server;
let port = 0;
const clientsSeen: string[] = [];
const refused: string[] = [];

async function openssl(...args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { cwd: dir });
}

/** A CA, a server certificate for SERVER_NAME and a client certificate, all signed by the CA. */
async function makeCertificates(): Promise<void> {
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Baton test CA');
  for (const [name, cn, ext] of [
    ['server', SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\n`],
    ['client', 'baton-worker', 'extendedKeyUsage=clientAuth\n'],
  ]) {
    await writeFile(path.join(dir, `${name}.ext`), ext);
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    await openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
}

beforeAll(async () => {
  dir = await tempDir('baton-tls-');
  await makeCertificates();
  const upstream = new URL(`grpc://${loadConfig().temporal.address}`);
  const read = (f: string) => readFile(path.join(dir, f));
  front = tls.createServer(
    {
      key: await read('server.key'),
      cert: await read('server.pem'),
      ca: await read('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      clientsSeen.push(String(socket.getPeerCertificate().subject?.CN));
      const server = net.connect(Number(upstream.port), upstream.hostname);
      socket.pipe(server).pipe(socket);
      socket.on('error', () => server.destroy());
      server.on('error', () => socket.destroy());
    },
  );
  front.on('tlsClientError', (err) => refused.push(err.message));
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  port = (front.address() as AddressInfo).port;
});

afterAll(async () => {
  front?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function tlsEnv(withClientCert: boolean): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    ...(withClientCert ? { TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key') } : {}),
  };
}

test('the worker and the client reach Temporal over mTLS and run a DAG', async () => {
  let worker: RunningWorker | undefined;
  let client: Client | undefined;
  try {
    worker = await startWorkerProcess(tlsEnv(true));
    assert.match(worker.output(), /"tls":"mTLS"/);
    client = await connectClient(loadConfig(tlsEnv(true)));
    const dag = noopDagDefinition({ dagId: `tls_${Date.now()}` }, { tasks: 3 });
    const workflowId = dagRunWorkflowId(dag.dagId, '2024-02-01');
    const handle = await client.workflow.start('noopDag', { taskQueue: 'etl', workflowId, args: [{ ...dag.runArgs, ds: '2024-02-01' }] });
    const result = (await handle.result()) as NoopDagResult;
    assert.equal(result.tasks.length, 3);
    assert.ok(clientsSeen.filter((cn) => cn === 'baton-worker').length >= 2, `connections through the TLS front: ${clientsSeen.join(', ')}`);
    assert.ok(clientsSeen.every((cn) => cn === 'baton-worker'));
  } finally {
    await client?.connection.close();
    await worker?.stop();
  }
});

test('without the client certificate the TLS front refuses the connection', async () => {
  const before = refused.length;
  await assert.rejects(async () => {
    const client = await connectClient(loadConfig(tlsEnv(false)));
    try {
      await client.workflowService.getSystemInfo({});
    } finally {
      await client.connection.close();
    }
  });
  assert.ok(refused.length > before, 'the front saw a handshake without a certificate');
  assert.match(refused.slice(before).join(' | '), /certificate/i);
});
