/**
 * The data path scenario's floors, each a psql of the platform's Postgres 15 run on the same file:
 * a bare `\\copy` of its lines into one text column, and the script a competent engineer writes
 * (typed `\\copy`, then `INSERT ... SELECT DISTINCT ON (order_id)` into the day's partition).
 */
import { spawn } from 'node:child_process';
import { Pool } from 'pg';
/** The psql of the Postgres 15 install the platform runs. */
export const PSQL = '/usr/lib/postgresql/15/bin/psql';

/** The floors' tables, in the bench database. */
export const RAW_TABLE = 'public.bench_datapath_raw_lines';
export const SCRIPT_TABLE = 'public.bench_datapath_orders';

/** A day of its own per size, apart from the other scenarios' files and partitions. */
export const DAYS: Record<number, string> = { 100_000: '2031-09-09', 250_000: '2031-09-03', 1_000_000: '2031-09-01', 5_000_000: '2031-09-05' };
/** The day of the file with a quote left open on line 2. */
export const UNCLOSED_DAY = '2031-09-07';

/** Connection arguments for psql from a postgres:// URL; the password goes in the child's environment only. */
export function psqlConnection(databaseUrl: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const args = [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    url.hostname,
    '-p',
    url.port || '5432',
    '-U',
    decodeURIComponent(url.username),
    '-d',
    url.pathname.slice(1),
  ];
  return { args, env: { PATH: process.env.PATH, PGPASSWORD: decodeURIComponent(url.password), PGAPPNAME: 'baton-bench-datapath' } };
}

/** Runs one psql meta-command (`\copy ...`) in a child process; returns its wall time in ms. */
export async function psqlTimed(databaseUrl: string, command: string): Promise<number> {
  const { args, env } = psqlConnection(databaseUrl);
  const started = performance.now();
  const child = spawn(PSQL, [...args, '-c', command], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`psql ${command.split(' ').slice(0, 2).join(' ')} exited with ${code}: ${stderr.trim()}`);
  return performance.now() - started;
}

/** A file name psql's \copy takes between single quotes. */
export function psqlPath(file: string): string {
  if (/['\n\\]/.test(file)) throw new Error(`bench data path ${file} must not hold a quote, backslash or newline`);
  return `'${file}'`;
}

/** Runs a psql script in a child process; returns its wall time in ms. */
export async function psqlScriptTimed(databaseUrl: string, script: string): Promise<number> {
  const { args, env } = psqlConnection(databaseUrl);
  const started = performance.now();
  const child = spawn(PSQL, [...args, '-f', '-'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(script);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`psql script exited with ${code}: ${stderr.trim()}`);
  return performance.now() - started;
}

/** The hand-written load of a clean file into the day's partition (see the module comment). */
export async function scriptFloor(pool: Pool, databaseUrl: string, csv: string, ds: string): Promise<number> {
  await pool.query(`DROP TABLE IF EXISTS ${SCRIPT_TABLE}`);
  await pool.query(
    `CREATE TABLE ${SCRIPT_TABLE} (LIKE warehouse.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (ds, order_id)) PARTITION BY LIST (ds)`,
  );
  await pool.query(`CREATE TABLE ${SCRIPT_TABLE}_day PARTITION OF ${SCRIPT_TABLE} FOR VALUES IN ('${ds}')`);
  try {
    return await psqlScriptTimed(
      databaseUrl,
      [
        'BEGIN;',
        'CREATE TEMP TABLE orders_in (order_id text, customer_id text, order_date date, amount numeric(12,2), status text) ON COMMIT DROP;',
        `\\copy orders_in FROM ${psqlPath(csv)} WITH (FORMAT csv, HEADER true)`,
        `DELETE FROM ${SCRIPT_TABLE} WHERE ds = '${ds}';`,
        `INSERT INTO ${SCRIPT_TABLE} (ds, order_id, customer_id, order_date, amount, status, source_line)`,
        `  SELECT DISTINCT ON (order_id) '${ds}', order_id, customer_id, order_date, amount, status, 0 FROM orders_in ORDER BY order_id;`,
        'COMMIT;',
        '',
      ].join('\n'),
    );
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${SCRIPT_TABLE}`);
  }
}

/** For reference: the raw file as it is, one text column a line (no fields, no numbering). */
export async function rawLinesCopy(pool: Pool, databaseUrl: string, csv: string): Promise<number> {
  await pool.query(`DROP TABLE IF EXISTS ${RAW_TABLE}`);
  await pool.query(`CREATE UNLOGGED TABLE ${RAW_TABLE} (raw text)`);
  try {
    return await psqlTimed(databaseUrl, `\\copy ${RAW_TABLE} FROM ${psqlPath(csv)} WITH (FORMAT text, HEADER true)`);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${RAW_TABLE}`);
  }
}

/** Load replaces the partition; dropping it first (outside the timing) times the first load of a day, every repeat. */
