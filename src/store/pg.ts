import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as tables from '../../schema/tables.pg.ts';

/** The PostgreSQL store's generated migrations (schema/migrations-pg). */
export const PG_MIGRATIONS = fileURLToPath(new URL('../../schema/migrations-pg', import.meta.url));

export type PgDb = NodePgDatabase<typeof tables> & { $client: pg.Pool };

export interface PgStore {
  db: PgDb;
  /** Waits for the queries under way and closes every connection of the pool. */
  close(): Promise<void>;
}

export interface PgStoreOptions {
  /** Connections in the pool (node-postgres' default is 10). */
  max?: number;
}

/**
 * Opens a pool on the PostgreSQL database at `url` (BETROKKEN_DATABASE_URL, read by config.ts),
 * through node-postgres: test/bench/pg-driver.ts measured it against postgres.js. Opening
 * connects nothing yet; the first query does.
 */
export function openPostgres(url: string, opts: PgStoreOptions = {}): PgStore {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, application_name: 'betrokken' });
  // An idle connection that the server drops (restart, failover) must not crash the process;
  // the pool replaces it, and the query that next needs a connection sees the error if it lasts.
  pool.on('error', () => {});
  const db = drizzle({ client: pool, schema: tables }) as PgDb;
  return { db, close: () => pool.end() };
}

/**
 * Applies schema/migrations-pg. drizzle's migrator takes no lock, so with several instances
 * migrations are run once (by one instance, or the CLI) before the others start.
 */
export async function migratePostgres(db: PgDb): Promise<void> {
  await migrate(db, { migrationsFolder: PG_MIGRATIONS });
}

/**
 * How many of schema/migrations-pg's migrations the database has not had: those made after the
 * last one drizzle's migrator recorded (in drizzle.__drizzle_migrations, by the time it was made),
 * all of them for an empty database.
 */
export async function pendingPostgresMigrations(pool: pg.Pool): Promise<number> {
  const journal = JSON.parse(fs.readFileSync(path.join(PG_MIGRATIONS, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number }> };
  const { rows } = await pool.query<{ exists: boolean }>("select to_regclass('drizzle.__drizzle_migrations') is not null as exists");
  let last = -1;
  if (rows[0]?.exists) {
    const r = await pool.query<{ last: string | null }>('select max(created_at)::text as last from drizzle.__drizzle_migrations');
    last = r.rows[0]?.last == null ? -1 : Number(r.rows[0].last);
  }
  return journal.entries.filter((e) => e.when > last).length;
}

/**
 * The SQLSTATE of a PostgreSQL error, looking through drizzle's wrapping (DrizzleQueryError keeps
 * the driver's error as its cause): 23505 unique violation, 40001 serialisation failure, 40P01
 * deadlock, 23001 the audit log's append-only trigger.
 */
export function postgresErrorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
