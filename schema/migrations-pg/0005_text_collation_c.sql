-- Text compares as SQLite compares it (BINARY: byte order, which is also JavaScript's order for
-- the ids' ASCII), whatever locale the database was created with: a managed PostgreSQL commonly
-- has en_US.UTF-8 or an ICU locale, under which 'agy_B' sorts after 'agy_a' and punctuation
-- weighs less than letters. Ids are ordered and compared for cursor paging (the inbox: id > $1
-- order by id), so both stores must agree. On the column, not in the queries: the indexes then
-- serve `order by id` and `id > $1` (a COLLATE in the query would bypass them), and byte
-- comparison is cheaper than a locale's. Every text column of this schema, so that no list can
-- fall behind; a new table's text columns need `COLLATE "C"` in their own migration
-- (test/scenarios/notices.test.ts checks every text column).
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT table_name, string_agg(format('ALTER COLUMN %I TYPE text COLLATE "C"', column_name), ', ' ORDER BY ordinal_position) AS changes
    FROM information_schema.columns
    WHERE table_schema = current_schema() AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'
    GROUP BY table_name
  LOOP
    EXECUTE format('ALTER TABLE %I %s', t.table_name, t.changes);
  END LOOP;
END $$;
