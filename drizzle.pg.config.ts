import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL store's migrations (drizzle.config.ts has SQLite's). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/tables.pg.ts',
  out: './schema/migrations-pg',
});
