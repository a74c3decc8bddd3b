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
import { isTsKey, parseDs, parseTs } from '../logical-date';
import { checkConf } from '../runs';
import { intervalForKey, isSubDaily, runKeyOf } from '../timetable';

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

/** A logical date, or a timestamp with its offset (a sub-daily DAG's run), checked as written. */
export function logicalArgNamed(value: string, name: string): string {
  try {
    if (isTsKey(value)) parseTs(value, name);
    else parseDs(value, name);
    return value;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export const tsArg = (value: string) => {
  try {
    parseTs(value, '--ts');
    return value;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

/**
 * The key of the DAG's run a command names (`--ds` or `--ts`, or an argument holding either):
 * its ds, or its ts for a sub-daily DAG, in the form its workflow id has; else an error naming
 * what the DAG's runs are named by.
 */
export function runKey(dag: DagDefinition, given: { ds?: string; ts?: string }): string {
  if (given.ds !== undefined && given.ts !== undefined) throw new Error('give --ds or --ts, not both');
  const value = given.ts ?? given.ds;
  if (value === undefined)
    throw new Error(
      `give the run's ${isSubDaily(dag) ? '--ts (its logical timestamp, such as 2024-01-15T13:00:00+00:00)' : '--ds (its logical date, YYYY-MM-DD)'}`,
    );
  return runKeyOf(dag, intervalForKey(dag, value));
}

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
