-- What the application role may do on a PostgreSQL database of Betrokken: read and write the
-- tables, but only read and append the audit log. Run it as the role that owns the tables (the
-- one that runs `betrokken migrate`), after the first migration, in the service's database:
--
--   psql "$OWNER_URL" -v ON_ERROR_STOP=1 -f scripts/pg-grants.sql
--
-- The owner can disable the audit log's append-only triggers or drop the table; a role that does
-- not own it can do neither, and these grants give it no UPDATE, DELETE or TRUNCATE there.
GRANT USAGE ON SCHEMA public TO betrokken_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO betrokken_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO betrokken_app;
REVOKE ALL ON audit_log FROM betrokken_app;
GRANT SELECT, INSERT ON audit_log TO betrokken_app;
-- Which migrations have run, so that an instance can refuse a database that is behind.
GRANT USAGE ON SCHEMA drizzle TO betrokken_app;
GRANT SELECT ON drizzle.__drizzle_migrations TO betrokken_app;
