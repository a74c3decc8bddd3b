-- The warehouse Baton loads into. Idempotent: run at set-up and by every worker at start.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS warehouse;

-- One row per order per logical date; a run replaces its ds partition as a whole.
CREATE TABLE IF NOT EXISTS warehouse.orders (
  ds           date          NOT NULL,
  order_id     bigint        NOT NULL,
  customer_id  bigint        NOT NULL,
  order_date   date          NOT NULL,
  amount       numeric(12,2) NOT NULL CHECK (amount >= 0),
  status       text          NOT NULL,
  source_line  integer       NOT NULL,
  loaded_at    timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (ds, order_id)
);

-- Rows of a ds that could not be loaded, with their source line and why.
CREATE TABLE IF NOT EXISTS warehouse.orders_rejected (
  ds           date        NOT NULL,
  line         integer     NOT NULL,
  reason       text        NOT NULL,
  raw          text        NOT NULL,
  rejected_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ds, line)
);

-- Task results cached by input hash (the orders-etl flow), shared by every worker. A result is
-- a reference to a file, never the data; a row past expires_at is an expired entry.
CREATE SCHEMA IF NOT EXISTS baton;
CREATE TABLE IF NOT EXISTS baton.task_cache (
  cache_key   text        PRIMARY KEY,
  task        text        NOT NULL,
  policy      text        NOT NULL,
  inputs      jsonb       NOT NULL,
  result      jsonb       NOT NULL,
  stored_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
