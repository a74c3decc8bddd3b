/**
 * Baton's activities/sql/warehouse.sql and orders_daily_etl's setup.sql on a warehouse of an earlier Baton (orders in one table keyed by
 * bigint ids): every row moves, ids become text, each day becomes a partition, and a second run
 * changes nothing. The script runs as written, its schemas renamed so that the test database's
 * own warehouse is not touched.
 */
import assert from '../support/assert';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, test } from '@jest/globals';
import { Pool } from 'pg';
import { migrateWarehouse } from '../../activities/warehouse';
import { repoRoot, tempDir, testPool } from '../support';

const pool = testPool();
const suffix = randomUUID().slice(0, 8);
const schemas = { staging: `mig_staging_${suffix}`, warehouse: `mig_warehouse_${suffix}`, baton: `mig_baton_${suffix}` };
afterAll(async () => {
  for (const schema of Object.values(schemas)) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
});

/** Baton's warehouse.sql then the DAG's setup.sql, their three schemas renamed (every `staging.`, `warehouse.`, `baton.` and schema name). */
async function migrationSql(): Promise<string> {
  const sql = [
    await readFile(path.join(repoRoot, 'activities', 'sql', 'warehouse.sql'), 'utf8'),
    await readFile(path.join(repoRoot, 'workflows', 'dags', 'orders_daily_etl', 'setup.sql'), 'utf8'),
  ].join('\n');
  return sql
    .replace(/\b(staging|warehouse|baton)\b(?=\.|;| )/g, (name) => schemas[name as keyof typeof schemas])
    .replace(/SET SCHEMA warehouse'/g, `SET SCHEMA ${schemas.warehouse}'`);
}

test('a warehouse of bigint ids in one table is migrated in place: every row kept, ids as text, a partition per day; twice is once', async () => {
  const w = schemas.warehouse;
  await pool.query(`CREATE SCHEMA ${w}`);
  await pool.query(
    `CREATE TABLE ${w}.orders (
       ds date NOT NULL, order_id bigint NOT NULL, customer_id bigint NOT NULL, order_date date NOT NULL,
       amount numeric(12,2) NOT NULL CHECK (amount >= 0), status text NOT NULL, source_line integer NOT NULL,
       loaded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (ds, order_id))`,
  );
  await pool.query(
    `CREATE TABLE ${w}.orders_rejected (ds date NOT NULL, line integer NOT NULL, reason text NOT NULL, raw text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (ds, line))`,
  );
  await pool.query(
    `INSERT INTO ${w}.orders (ds, order_id, customer_id, order_date, amount, status, source_line)
     SELECT d::date, i, 100 + i, d::date, i * 1.25, 'shipped', i + 1
     FROM generate_series(DATE '2024-01-01', DATE '2024-01-03', interval '1 day') AS d, generate_series(1, 1000) AS i`,
  );
  await pool.query(`INSERT INTO ${w}.orders_rejected (ds, line, reason, raw) VALUES ('2024-01-02', 7, 'missing order_id', ',1,2024-01-02,1.00,x')`);
  const before = (await pool.query(`SELECT count(*)::int AS n, sum(order_id)::text AS ids, sum(amount)::text AS amount FROM ${w}.orders`)).rows[0];

  const sql = await migrationSql();
  assert.doesNotMatch(sql.replace(/--.*$/gm, ''), /\b(warehouse|staging|baton)(\.|;|')/, 'every schema of the script renamed');
  for (let run = 1; run <= 2; run++) {
    await pool.query(sql);
    const { rows } = await pool.query<{ kind: string; type: string; partitions: number; n: number; ids: string; amount: string }>(
      `SELECT (SELECT relkind::text FROM pg_class WHERE oid = '${w}.orders'::regclass) AS kind,
              (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '${w}.orders'::regclass AND attname = 'order_id') AS type,
              (SELECT count(*)::int FROM pg_inherits WHERE inhparent = '${w}.orders'::regclass) AS partitions,
              count(*)::int AS n, sum(order_id::bigint)::text AS ids, sum(amount)::text AS amount
       FROM ${w}.orders`,
    );
    assert.deepEqual(rows[0], { kind: 'p', type: 'text', partitions: 3, n: before.n, ids: before.ids, amount: before.amount }, `after run ${run}`);
    const rejected = await pool.query(`SELECT line, lines, rule, reason FROM ${w}.orders_rejected`);
    assert.deepEqual(rejected.rows, [{ line: 7, lines: 1, rule: '', reason: 'missing order_id' }]);
    assert.equal((await pool.query('SELECT to_regclass($1) AS t', [`${w}.orders_v1`])).rows[0].t, null, 'the old table is gone');
  }
  // The partition of a day holds that day's rows, under the primary key.
  const day = await pool.query(`SELECT count(*)::int AS n FROM ${w}.orders_20240102`);
  assert.equal(day.rows[0].n, 1000);
  await assert.rejects(
    pool.query(
      `INSERT INTO ${w}.orders (ds, order_id, customer_id, order_date, amount, status, source_line) VALUES ('2024-01-02', '1', '1', '2024-01-02', 1, 'x', 1)`,
    ),
    /duplicate key value violates unique constraint/,
  );
});

test("a DAG folder's setup.sql is applied with Baton's migration once per content, and a role that may not apply it is told which file", async () => {
  const dags = await tempDir('baton-setup-');
  const folder = `setup_probe_${suffix}`;
  // In the warehouse schema, where the worker's role may not create a table.
  const table = `warehouse.${folder}`;
  await mkdir(path.join(dags, folder));
  await writeFile(path.join(dags, folder, 'dag.ts'), '// the folder of a DAG: its dag.ts is not read by the migration\n');
  const setup = path.join(dags, folder, 'setup.sql');
  await writeFile(setup, `CREATE TABLE IF NOT EXISTS ${table} (id int);\n`);
  const exists = async () => (await pool.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0].ok as boolean;
  const recorded = async () => (await pool.query('SELECT sha256 FROM baton.migrations WHERE name = $1', [`dag:${folder}`])).rows.map((r) => r.sha256 as string);
  try {
    await migrateWarehouse(pool, dags);
    assert.equal(await exists(), true);
    const [sha] = await recorded();
    assert.match(sha, /^[0-9a-f]{64}$/);
    // Applied once per content: the same file is not run again, whatever became of its objects.
    await pool.query(`DROP TABLE ${table}`);
    await migrateWarehouse(pool, dags);
    assert.equal(await exists(), false);
    // A changed file is applied again, and recorded as it is now.
    await writeFile(setup, `CREATE TABLE IF NOT EXISTS ${table} (id int, name text);\n`);
    // The local set-up's worker role (with a DATABASE_URL of your own, the worker's URL is the owner's).
    const worker = process.env.BATON_WORKER_DATABASE_URL;
    if (worker && worker !== process.env.DATABASE_URL) {
      // The worker's least-privilege role finds it pending and may not create it: the error names the file.
      const workerPool = new Pool({ connectionString: worker, max: 1 });
      try {
        await assert.rejects(migrateWarehouse(workerPool, dags), (err: Error) => {
          assert.match(err.message, new RegExp(`^the warehouse needs .*${folder}/setup\\.sql applied, and this database role may not \\(permission denied`));
          return true;
        });
        // A role set up by an earlier Baton may not read what is applied: it is told how to mend that.
        const role = decodeURIComponent(new URL(worker).username);
        await pool.query(`REVOKE SELECT ON baton.migrations FROM ${role}`);
        try {
          await assert.rejects(migrateWarehouse(workerPool, dags), (err: Error) => {
            assert.match(
              err.message,
              /^this database role may not read baton\.migrations \(permission denied .*\): apply activities\/sql\/worker-role\.sql again/,
            );
            return true;
          });
        } finally {
          await pool.query(`GRANT SELECT ON baton.migrations TO ${role}`);
        }
      } finally {
        await workerPool.end();
      }
    }
    await migrateWarehouse(pool, dags);
    assert.equal(await exists(), true);
    assert.notEqual((await recorded())[0], sha);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.query('DELETE FROM baton.migrations WHERE name = $1', [`dag:${folder}`]);
  }
});
