/**
 * The warehouse's shape: Baton's migration (activities/sql/warehouse.sql), then each DAG
 * folder's `setup.sql` (the tables and functions its runs write through), applied in that order
 * as the warehouse's owner, once per content, under a lock. A worker on its least-privilege role
 * finds them applied and does nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { projectRoot } from '../src/config';
import { dagFiles, defaultDagsDir } from '../src/dag-files';

interface Script {
  /** `baton`, or `dag:<folder>` for a DAG folder's setup.sql. */
  name: string;
  file: string;
  sql: string;
  sha256: string;
}

/** Baton's script, then each DAG folder's setup.sql, by path. */
async function warehouseScripts(dagsDir: string): Promise<Script[]> {
  const files = [
    { name: 'baton', file: path.join(projectRoot, 'activities', 'sql', 'warehouse.sql') },
    ...[...new Set(dagFiles(dagsDir).map((d) => d.folder))]
      .map((folder) => ({ name: `dag:${path.basename(folder)}`, file: path.join(folder, 'setup.sql') }))
      .filter((s) => existsSync(s.file)),
  ];
  return Promise.all(
    files.map(async (s) => {
      const sql = await readFile(s.file, 'utf8');
      return { ...s, sql, sha256: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/** The scripts the warehouse does not have as they are now (all of them before Baton's first migration). */
async function pending(db: Pool | PoolClient, scripts: Script[]): Promise<Script[]> {
  let applied: Map<string, string>;
  try {
    const { rows } = await db.query<{ name: string; sha256: string }>('SELECT name, sha256 FROM baton.migrations');
    applied = new Map(rows.map((r) => [r.name, r.sha256]));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '42501')
      throw new Error(
        `this database role may not read baton.migrations (${(err as Error).message}): apply activities/sql/worker-role.sql again, which grants the worker's role what it reads`,
      );
    if (code !== '42P01') throw err;
    applied = new Map();
  }
  return scripts.filter((s) => applied.get(s.name) !== s.sha256);
}

/** Creates what the warehouse is missing: Baton's tables and each DAG's (`<dag folder>/setup.sql`). */
export async function migrateWarehouse(pool: Pool, dagsDir = defaultDagsDir()): Promise<void> {
  const scripts = await warehouseScripts(dagsDir);
  if (!(await pending(pool, scripts)).length) return;
  const client = await pool.connect();
  try {
    // Two workers starting at once would race on CREATE ... IF NOT EXISTS.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['baton:migrate']);
    // In order: Baton's own script, when it is pending, makes the table that records the others.
    // On the locked connection: a pool of one (the set-up's) has no other to give.
    for (const script of await pending(client, scripts)) {
      try {
        await client.query(script.sql);
        await client.query(
          'INSERT INTO baton.migrations (name, sha256) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()',
          [script.name, script.sha256],
        );
      } catch (err) {
        const where = path.relative(process.cwd(), script.file);
        if ((err as { code?: string }).code === '42501')
          throw new Error(
            `the warehouse needs ${where} applied, and this database role may not (${(err as Error).message}): run the set-up (\`npm start\`, \`baton start\`) or apply it as the warehouse's owner`,
          );
        throw new Error(`${where}: ${(err as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['baton:migrate']).catch(() => undefined);
    client.release();
  }
}
