-- The worker's database role, with only what runs need: read the source, stage a day, publish it
-- through the owner's functions in schema baton (a DAG's setup.sql puts them there), cache task
-- results, and build the dbt models it owns. No DDL
-- on the warehouse, no INSERT, DELETE, DROP or TRUNCATE of its tables, no other database. Run by the local set-up (as a superuser,
-- in each database Baton uses) after the warehouse is migrated; for your own Postgres, run it
-- with psql -v worker=<role> -v owner=<the warehouse's owner> -v db=<database> after creating
-- the role:
--   CREATE ROLE baton_worker LOGIN PASSWORD '...' NOSUPERUSER NOCREATEDB NOCREATEROLE;
\set ON_ERROR_STOP on

GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"worker";
-- The owner acts for the worker (ends its sessions, drops what it left); never the reverse.
GRANT :"worker" TO :"owner";

-- staging: the day's tables, created and dropped by the runs themselves.
GRANT USAGE, CREATE ON SCHEMA staging TO :"worker";
-- the warehouse: read it; a day is published, audited, by the owner's functions alone.
GRANT USAGE ON SCHEMA warehouse TO :"worker";
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA warehouse FROM :"worker";
GRANT SELECT ON ALL TABLES IN SCHEMA warehouse TO :"worker";
GRANT USAGE ON SCHEMA baton TO :"worker";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA baton TO :"worker";
-- which migrations the warehouse has (the worker checks at start, and applies none).
GRANT SELECT ON baton.migrations TO :"worker";
-- the task cache (a task's `cache`).
GRANT SELECT, INSERT, UPDATE, DELETE ON baton.task_cache TO :"worker";
-- what the worker serves, announced while it runs.
GRANT SELECT, INSERT, UPDATE, DELETE ON baton.dag_servers TO :"worker";
-- the demo's source database (conn_id postgres_prod): read only.
CREATE SCHEMA IF NOT EXISTS source AUTHORIZATION :"owner";
GRANT USAGE ON SCHEMA source TO :"worker";
GRANT SELECT ON ALL TABLES IN SCHEMA source TO :"worker";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA source GRANT SELECT ON TABLES TO :"worker";

-- dbt builds its models as the worker, so the worker owns the schemas it builds into and what
-- is in them (and in staging, tables left by runs under another role).
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS analytics_dev;
ALTER SCHEMA analytics OWNER TO :"worker";
ALTER SCHEMA analytics_dev OWNER TO :"worker";
-- The example DAGs' tables (workflows/dags/), made by their loadCsv and sql tasks: the worker's too.
CREATE SCHEMA IF NOT EXISTS examples;
ALTER SCHEMA examples OWNER TO :"worker";
SELECT format('ALTER %s %I.%I OWNER TO %I', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, n.nspname, c.relname, :'worker')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('analytics', 'analytics_dev', 'staging', 'examples') AND c.relkind IN ('r', 'v', 'm', 'p')
  AND pg_get_userbyid(c.relowner) <> :'worker'
\gexec
