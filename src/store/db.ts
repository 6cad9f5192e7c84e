import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as tables from '../../schema/tables.ts';

export type Db = BetterSQLite3Database<typeof tables> & { $client: Database.Database };
/** The handle a use case gets inside its transaction (same query API as Db). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const MIGRATIONS = fileURLToPath(new URL('../../schema/migrations', import.meta.url));

const STATEMENT_CACHE_SIZE = 512;

/**
 * drizzle asks better-sqlite3 to prepare every query anew, which costs more than running it.
 * Statements are reusable once they have run to completion (drizzle only uses run/get/all), so
 * they are kept by SQL text. A cached statement is put back in object mode, since drizzle turns
 * raw mode on per call where it wants arrays.
 */
function cacheStatements(client: Database.Database): void {
  const prepare = client.prepare.bind(client);
  const cache = new Map<string, Database.Statement>();
  client.prepare = ((source: string) => {
    const cached = cache.get(source);
    if (cached) {
      if (cached.reader) cached.raw(false);
      return cached;
    }
    const statement = prepare(source);
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(source, statement);
    return statement;
  }) as typeof client.prepare;
}

/**
 * Opens (creating if needed) the SQLite database in WAL mode. `:memory:` gives a private
 * in-memory database, as the tests use.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const client = new Database(file);
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma('foreign_keys = ON');
  client.pragma('busy_timeout = 5000');
  // Freed pages are overwritten, so sealed data that was removed does not linger in the file.
  client.pragma('secure_delete = ON');
  if (file !== ':memory:') fs.chmodSync(file, 0o600);
  cacheStatements(client);
  return drizzle({ client, schema: tables }) as Db;
}

/** Applies the generated migrations in schema/migrations. */
export function migrateDatabase(db: Db): void {
  migrate(db, { migrationsFolder: MIGRATIONS });
}

/** Runs `fn` in one synchronous transaction (better-sqlite3 does not allow awaiting inside). */
export function inTransaction<T>(db: Db, fn: (tx: Tx) => T): T {
  return db.transaction(fn, { behavior: 'immediate' });
}

export { tables };

/** Whether the database answers (for /readyz); throws what the driver threw otherwise. */
export function pingDatabase(db: Db): void {
  db.$client.prepare('select 1').get();
}
