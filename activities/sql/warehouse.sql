-- Baton's own tables in the warehouse, and the schemas DAGs load into. Idempotent: run at set-up
-- and by a worker at start, as the warehouse's owner, before each DAG folder's setup.sql.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS warehouse;
CREATE SCHEMA IF NOT EXISTS baton;

-- Which of these scripts (Baton's and each DAG's setup.sql) the warehouse has, by content: a
-- worker on its least-privilege role reads it to know there is nothing for it to do.
CREATE TABLE IF NOT EXISTS baton.migrations (
  name        text        PRIMARY KEY,
  sha256      text        NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
);

-- Task results cached by input hash (a task's `cache`), shared by every worker. A result is
-- a reference to a file, never the data; a row past expires_at is an expired entry.
CREATE TABLE IF NOT EXISTS baton.task_cache (
  cache_key   text        PRIMARY KEY,
  task        text        NOT NULL,
  policy      text        NOT NULL,
  inputs      jsonb       NOT NULL,
  result      jsonb       NOT NULL,
  stored_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);

-- What each running worker serves: its namespace, task queue and the workflow types of its DAGs,
-- refreshed while it runs and removed when it stops. `baton trigger` refuses a DAG that no worker
-- seen in the last 30 seconds serves, before it creates a run.
CREATE TABLE IF NOT EXISTS baton.dag_servers (
  worker          text        PRIMARY KEY,
  namespace       text        NOT NULL,
  task_queue      text        NOT NULL,
  workflow_types  text[]      NOT NULL,
  seen_at         timestamptz NOT NULL
);
