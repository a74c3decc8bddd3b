-- orders_daily_etl's tables and its publish function, applied by Baton's set-up (and a worker
-- whose role may) as the warehouse's owner, after Baton's own migration. Idempotent. A warehouse
-- of an earlier Baton (orders keyed by bigint ids in one table) is migrated in place, every row
-- kept. The worker's role reads the warehouse and calls baton's functions (worker-role.sql).
-- The first warehouse: one table of bigint ids. Its rows move into the partitioned table below.
DO $$
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass('warehouse.orders')) = 'r' THEN
    ALTER TABLE warehouse.orders RENAME TO orders_v1;
    ALTER TABLE warehouse.orders_v1 RENAME CONSTRAINT orders_pkey TO orders_v1_pkey;
  END IF;
END $$;

-- One row per order per logical date, in one partition per ds: a run writes the day's rows
-- beside the published partition, audits them, and swaps them in (baton.publish_orders_day).
-- Ids are text: order systems use UUIDs, `#1001`, `ORD-2024-000123`.
CREATE TABLE IF NOT EXISTS warehouse.orders (
  ds            date          NOT NULL,
  order_id      text          COLLATE "C" NOT NULL,
  customer_id   text          NOT NULL,
  order_date    date          NOT NULL,
  amount        numeric(12,2) NOT NULL CHECK (amount >= 0),
  status        text          NOT NULL,
  -- Where the record was in the file: its first line and how many lines it spans.
  source_line   integer       NOT NULL,
  source_lines  integer       NOT NULL DEFAULT 1,
  loaded_at     timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (ds, order_id)
) PARTITION BY LIST (ds);

DO $$
DECLARE
  day date;
  moved bigint;
BEGIN
  IF to_regclass('warehouse.orders_v1') IS NULL THEN RETURN; END IF;
  FOR day IN SELECT DISTINCT ds FROM warehouse.orders_v1 LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS warehouse.%I PARTITION OF warehouse.orders FOR VALUES IN (%L)', 'orders_' || to_char(day, 'YYYYMMDD'), day);
  END LOOP;
  INSERT INTO warehouse.orders (ds, order_id, customer_id, order_date, amount, status, source_line, source_lines, loaded_at)
  SELECT ds, order_id::text, customer_id::text, order_date, amount, status, source_line, 1, loaded_at FROM warehouse.orders_v1;
  GET DIAGNOSTICS moved = ROW_COUNT;
  IF moved <> (SELECT count(*) FROM warehouse.orders_v1) THEN
    RAISE EXCEPTION 'warehouse migration: moved % rows of warehouse.orders_v1, which holds %', moved, (SELECT count(*) FROM warehouse.orders_v1);
  END IF;
  -- dbt's views read the old table; dbt builds them again on its next run.
  DROP TABLE warehouse.orders_v1 CASCADE;
  RAISE NOTICE 'warehouse.orders: % rows moved to the partitioned table with text ids', moved;
END $$;

-- Rows of a ds that could not be loaded: the record's first line, its lines, the rule it broke
-- (what the audit groups by) and the reason naming the column and the value.
CREATE TABLE IF NOT EXISTS warehouse.orders_rejected (
  ds           date        NOT NULL,
  line         integer     NOT NULL,
  reason       text        NOT NULL,
  raw          text        NOT NULL,
  rejected_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ds, line)
);
ALTER TABLE warehouse.orders_rejected ADD COLUMN IF NOT EXISTS lines integer NOT NULL DEFAULT 1;
ALTER TABLE warehouse.orders_rejected ADD COLUMN IF NOT EXISTS rule text NOT NULL DEFAULT '';

-- Publishes a day written and audited in staging: staging.orders_<yyyymmdd> (the day's rows,
-- shaped as a partition, with its key index) becomes the ds partition of warehouse.orders, and
-- staging.orders_rejected_<yyyymmdd> the day's rejects, in the caller's transaction. The old
-- partition is dropped. Runs as the warehouse's owner, so the worker publishes a day without
-- any DDL right on the warehouse; it names only a date, never a table.
CREATE OR REPLACE FUNCTION baton.publish_orders_day(p_ds date, p_loaded bigint, p_rejected bigint)
RETURNS TABLE (loaded bigint, rejected bigint, replaced bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  part text := 'orders_' || to_char(p_ds, 'YYYYMMDD');
  rejects text := 'orders_rejected_' || to_char(p_ds, 'YYYYMMDD');
  staged regclass := to_regclass(format('staging.%I', part));
  previous regclass := to_regclass(format('warehouse.%I', part));
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('orders:' || p_ds::text));
  IF staged IS NULL OR to_regclass(format('staging.%I', rejects)) IS NULL THEN
    RAISE EXCEPTION 'staging.% or staging.% is missing: nothing to publish for %', part, rejects, p_ds USING ERRCODE = 'no_data_found';
  END IF;
  EXECUTE format('SELECT count(*) FROM %s', staged) INTO loaded;
  EXECUTE format('SELECT count(*) FROM staging.%I', rejects) INTO rejected;
  IF loaded <> p_loaded OR rejected <> p_rejected THEN
    RAISE EXCEPTION 'staged day % holds % rows and % rejects, the audit counted % and %: not published', p_ds, loaded, rejected, p_loaded, p_rejected
      USING ERRCODE = 'data_exception';
  END IF;
  replaced := 0;
  IF previous IS NOT NULL THEN
    EXECUTE format('SELECT count(*) FROM %s', previous) INTO replaced;
    EXECUTE format('ALTER TABLE warehouse.orders DETACH PARTITION %s', previous);
    EXECUTE format('DROP TABLE %s', previous);
  ELSE
    DELETE FROM warehouse.orders WHERE ds = p_ds; -- a default partition never holds a day, but be exact
  END IF;
  EXECUTE format('ALTER TABLE %s SET SCHEMA warehouse', staged);
  EXECUTE format('ALTER TABLE warehouse.%I OWNER TO %I', part, current_user);
  EXECUTE format('ALTER TABLE warehouse.orders ATTACH PARTITION warehouse.%I FOR VALUES IN (%L)', part, p_ds);
  DELETE FROM warehouse.orders_rejected WHERE ds = p_ds;
  EXECUTE format('INSERT INTO warehouse.orders_rejected (ds, line, lines, rule, reason, raw) SELECT %L, line, lines, rule, reason, raw FROM staging.%I', p_ds, rejects);
  RETURN NEXT;
END $$;
REVOKE ALL ON FUNCTION baton.publish_orders_day(date, bigint, bigint) FROM PUBLIC;

-- A day published before transform made its key a primary key carries two indexes on
-- (ds, order_id): transform's bare unique index and the one ATTACH PARTITION built for
-- warehouse.orders' primary key. The bare one goes; the primary key's stays.
DO $$
DECLARE
  spare regclass;
BEGIN
  FOR spare IN
    SELECT i.indexrelid::regclass
    FROM pg_inherits h JOIN pg_index i ON i.indrelid = h.inhrelid
    WHERE h.inhparent = 'warehouse.orders'::regclass AND i.indisunique
      AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
      AND NOT EXISTS (SELECT FROM pg_inherits p WHERE p.inhrelid = i.indexrelid)
      AND EXISTS (SELECT FROM pg_index k JOIN pg_inherits p ON p.inhrelid = k.indexrelid
                  WHERE k.indrelid = i.indrelid AND p.inhparent = 'warehouse.orders_pkey'::regclass)
  LOOP
    EXECUTE format('DROP INDEX %s', spare);
  END LOOP;
END $$;
