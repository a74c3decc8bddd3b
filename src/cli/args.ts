/**
 * What every `baton` command parses its arguments with: a DAG of the catalog, a date, a conf, a
 * whole number, each refused naming the value; and the client a command works with.
 */
import { InvalidArgumentError } from 'commander';
import type { Client } from '@temporalio/client';
import { connectClient } from '../client';
import { loadConfig, type Config } from '../config';
import type { DagRunConf } from '../contracts';
import { findInCatalog, loadCatalog } from '../dag-catalog';
import type { DagDefinition } from '../dags';
import { parseDs } from '../logical-date';
import { checkConf } from '../runs';

/** Every DAG file of the project's DAGs folder. */
export const allDags = () => loadCatalog().dags;

export function dagArg(dagId: string): DagDefinition {
  const catalog = loadCatalog();
  const dag = findInCatalog(catalog, dagId);
  const broken = catalog.broken.find((b) => b.dagId === dagId);
  if (broken) throw new InvalidArgumentError(`DAG ${JSON.stringify(dagId)} does not validate: ${broken.problems.join('; ')}`);
  if (!dag)
    throw new InvalidArgumentError(
      `unknown DAG ${JSON.stringify(dagId)}; known: ${catalog.dags.map((d) => d.dagId).join(', ')}${catalog.broken.length ? ` (and ${catalog.broken.length} DAG file(s) that do not validate: \`baton dags validate\`)` : ''}`,
    );
  return dag;
}

export function dsArgNamed(value: string, name: string): string {
  try {
    return parseDs(value, name);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export const dsArg = (value: string) => dsArgNamed(value, 'ds');

export function confArg(value: string): DagRunConf {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`--conf is not JSON: ${(err as Error).message}`);
  }
  try {
    return checkConf(parsed);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function intArg(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
    return Number(value);
  };
}

/** Runs `work` with a connected client, closing it afterwards. */
export async function withClient<T>(work: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    return await work(client, config);
  } finally {
    await client.connection.close();
  }
}
