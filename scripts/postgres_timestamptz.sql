-- Turn every `timestamp without time zone` column of schema `genesys` into `timestamptz`.
-- meltanolabs-target-postgres 0.8.1 creates date-time columns as `timestamp` (no time zone) and keeps a
-- column it finds as `timestamptz`, so run this once after the first load (and after a run that created a new
-- table). The loaded values are UTC when the loader's URL sets `options=-c timezone=UTC` (README, Postgres).
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f scripts/postgres_timestamptz.sql
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT table_schema, table_name, column_name FROM information_schema.columns
           WHERE table_schema = 'genesys' AND data_type = 'timestamp without time zone'
  LOOP
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE timestamptz USING %I AT TIME ZONE ''UTC''',
                   c.table_schema, c.table_name, c.column_name, c.column_name);
  END LOOP;
END $$;
