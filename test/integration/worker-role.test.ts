/**
 * The worker's database role (activities/sql/worker-role.sql): every worker process in the
 * integration and chaos tiers runs on it (test/support/worker.ts), so the runs there prove it is
 * enough; this file proves it is no more than that.
 */
import assert from '../support/assert';
import { afterAll, beforeAll } from '@jest/globals';
import { Pool } from 'pg';
import { migrateWarehouse } from '../../activities/warehouse';
import { SOURCE_ORDERS_DDL } from '../../scripts/sample-orders';
import { startWorkerProcess, testConfig, testPool, testUnless, type RunningWorker } from '../support';

const workerUrl = process.env.BATON_WORKER_DATABASE_URL;
const owner = testPool(testConfig());
let pool: Pool | undefined;
/** With DATABASE_URL of your own, the worker runs on that URL: there is no worker role to check. */
const ownDatabase = !workerUrl || workerUrl === process.env.DATABASE_URL;

beforeAll(async () => {
  // What the lane's database holds before a run: the warehouse, and the demo's source table (the owner's).
  await migrateWarehouse(owner);
  await owner.query(SOURCE_ORDERS_DDL);
  if (workerUrl) pool = new Pool({ connectionString: workerUrl, max: 1 });
});
afterAll(async () => {
  await pool?.end();
  await owner.end();
});

testUnless(ownDatabase ? 'DATABASE_URL is your own: give the worker a role with activities/sql/worker-role.sql' : undefined)(
  "the worker role can do a run's work and nothing more: no DDL or writes on the warehouse but through the publish function, no roles or databases",
  async () => {
    assert.ok(pool);
    const {
      rows: [me],
    } = await pool.query<{ user: string; super: boolean; createdb: boolean; createrole: boolean }>(
      'SELECT current_user AS user, rolsuper AS super, rolcreatedb AS createdb, rolcreaterole AS createrole FROM pg_roles WHERE rolname = current_user',
    );
    assert.deepEqual(me, { user: 'baton_worker', super: false, createdb: false, createrole: false });

    // What runs do: stage a day shaped as a partition, publish it through the owner's function, cache, read the source.
    const allowed = [
      'CREATE TABLE staging.role_probe (LIKE warehouse.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS); DROP TABLE staging.role_probe',
      "SELECT count(*) FROM warehouse.orders WHERE ds = DATE '1999-01-01'",
      "BEGIN; UPDATE baton.task_cache SET expires_at = now() WHERE cache_key = 'none'; ROLLBACK",
      'SELECT count(*) FROM source.orders',
      'CREATE TEMP TABLE t AS SELECT 1 AS x',
    ];
    for (const sql of allowed) await pool.query(sql).catch((err: Error) => assert.fail(`${sql}: ${err.message}`));
    const {
      rows: [publish],
    } = await pool.query<{ ok: boolean }>("SELECT has_function_privilege('baton.publish_orders_day(date, bigint, bigint)', 'EXECUTE') AS ok");
    assert.equal(publish.ok, true, "the worker may publish a day through the owner's function");

    const refused: Array<[string, RegExp]> = [
      ['DROP TABLE warehouse.orders', /must be owner of table orders/],
      ['TRUNCATE warehouse.orders', /permission denied for table orders/],
      ["DELETE FROM warehouse.orders WHERE ds = DATE '1999-01-01'", /permission denied for table orders/],
      [
        "INSERT INTO warehouse.orders_rejected (ds, line, reason, raw) VALUES (DATE '1999-01-01', 1, 'probe', 'probe')",
        /permission denied for table orders_rejected/,
      ],
      ['UPDATE warehouse.orders SET amount = 0 WHERE false', /permission denied for table orders/],
      ['ALTER TABLE warehouse.orders ADD COLUMN x int', /must be owner of table orders/],
      ['CREATE TABLE warehouse.probe (x int)', /permission denied for schema warehouse/],
      ['CREATE SCHEMA probe', /permission denied for database/],
      ['INSERT INTO source.orders ("date", order_id) VALUES (DATE \'1999-01-01\', 1)', /permission denied for table orders/],
      ['CREATE ROLE probe', /permission denied to create role/],
      ['CREATE DATABASE probe', /permission denied to create database/],
      ['SELECT rolpassword FROM pg_authid', /permission denied for table pg_authid/],
    ];
    const wrong: string[] = [];
    for (const [sql, message] of refused) {
      const outcome = await pool.query(sql).then(
        () => 'allowed',
        (err: Error) => err.message,
      );
      if (!message.test(outcome)) wrong.push(`${sql}: ${outcome}`);
    }
    assert.deepEqual(wrong, []);
  },
);

testUnless(ownDatabase ? 'DATABASE_URL is your own' : undefined)('worker processes connect as baton_worker', async () => {
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorkerProcess();
    const { rows } = await owner.query<{ usename: string }>(
      "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'baton-worker' AND datname = current_database()",
    );
    assert.deepEqual(
      rows.map((r) => r.usename),
      ['baton_worker'],
    );
  } finally {
    await worker?.stop();
  }
});
