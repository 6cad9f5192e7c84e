import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type Placeholder, sql } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as tables from '../../schema/tables.ts';

export type Db = BetterSQLite3Database<typeof tables> & { $client: Database.Database };
/**
 * The handle a use case gets inside its transaction. better-sqlite3 has one connection, so the
 * transaction is the connection's state and the handle is the database itself; the name says
 * that the caller runs inside one.
 */
export type Tx = Db;

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

/** Thrown when an encrypted database cannot be opened: driver missing, wrong key, or not encrypted. */
export class DatabaseKeyError extends Error {
  readonly code = 'ERR_DATABASE_KEY';
}

/**
 * better-sqlite3 built with SQLite3 Multiple Ciphers (an optional dependency, the same API): every
 * page of the file and its WAL is encrypted, with ChaCha20-Poly1305, under the given key.
 */
function cipherDriver(): typeof Database {
  try {
    return createRequire(import.meta.url)('better-sqlite3-multiple-ciphers') as typeof Database;
  } catch {
    throw new DatabaseKeyError('database encryption needs the optional package better-sqlite3-multiple-ciphers, which is not installed');
  }
}

function openEncrypted(file: string, key: Uint8Array): Database.Database {
  const client = new (cipherDriver())(file);
  client.pragma("cipher = 'chacha20'");
  client.pragma(`key = '${Buffer.from(key).toString('hex')}'`);
  try {
    client.prepare('select count(*) from sqlite_master').get();
  } catch {
    client.close();
    throw new DatabaseKeyError(`the database ${file} cannot be opened with the database key: it was made without encryption, or with another key`);
  }
  return client;
}

/**
 * Encrypts an existing unencrypted database file in place, every page, under `key` (the service
 * must be stopped). SQLite3 Multiple Ciphers re-keys only outside WAL mode, so the file leaves WAL
 * mode for it and returns to it after.
 */
export function encryptDatabase(file: string, key: Uint8Array): void {
  const client = new (cipherDriver())(file);
  try {
    client.prepare('select count(*) from sqlite_master').get();
    client.pragma('journal_mode = DELETE');
    client.pragma("cipher = 'chacha20'");
    client.pragma(`rekey = '${Buffer.from(key).toString('hex')}'`);
    client.pragma('journal_mode = WAL');
  } finally {
    client.close();
  }
  openEncrypted(file, key).close();
}

/**
 * Opens (creating if needed) the SQLite database in WAL mode, encrypted page by page when a key is
 * given. `:memory:` gives a private in-memory database, as the tests use; a buffer (from
 * `serialize()`) an in-memory copy of one.
 */
export function openDatabase(file: string | Buffer, opts: { key?: Uint8Array } = {}): Db {
  const onDisk = typeof file === 'string' && file !== ':memory:';
  if (onDisk) fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const client = opts.key && typeof file === 'string' ? openEncrypted(file, opts.key) : new Database(file);
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  // Checkpoint every 10 000 pages (40 MB) rather than 1 000: a page written by many transactions
  // is copied back once (registrations 10 % faster, retention sweeps 10 % faster); the WAL file is
  // cut back to 64 MB after a checkpoint.
  client.pragma('wal_autocheckpoint = 10000');
  client.pragma('journal_size_limit = 67108864');
  client.pragma('foreign_keys = ON');
  client.pragma('busy_timeout = 5000');
  // Freed pages are overwritten, so sealed data that was removed does not linger in the file.
  client.pragma('secure_delete = ON');
  if (onDisk) fs.chmodSync(file, 0o600);
  cacheStatements(client);
  return drizzle({ client, schema: tables }) as Db;
}

/**
 * Applies the generated migrations in schema/migrations. A migration that drops a column leaves
 * the old pages in the file until a checkpoint copies the new ones over them, so one follows.
 */
export function migrateDatabase(db: Db): void {
  migrate(db, { migrationsFolder: MIGRATIONS });
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
}

/**
 * Runs `fn` in one synchronous transaction (better-sqlite3 does not allow awaiting inside); a
 * transaction begun inside another becomes a savepoint of it.
 */
export function inTransaction<T>(db: Db, fn: (tx: Tx) => T): T {
  try {
    const result = db.$client.transaction(() => fn(db)).immediate();
    if (!db.$client.inTransaction) writeFailures.delete(db);
    return result;
  } catch (err) {
    if (isStorageError(err)) writeFailures.set(db, (err as { code: string }).code);
    throw err;
  }
}

/** The last transaction's storage failure (disk full, read-only, I/O error), until one succeeds. */
const writeFailures = new WeakMap<Db, string>();

/** SQLite's codes for a database that cannot take a write (disk full, read-only file, I/O error). */
export function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN)/.test(code);
}

/**
 * Whether the database can take a write (for /readyz and at start): a committed write of one
 * meta row, and no transaction failed for storage since the last one that succeeded. Throws the
 * driver's error, or one naming the last storage failure.
 */
export function probeWrite(db: Db): void {
  db.$client.prepare("insert into meta (key, value) values ('write_probe', ?) on conflict (key) do update set value = excluded.value").run(new Date().toISOString());
  const failed = writeFailures.get(db);
  if (failed) throw Object.assign(new Error(`the last write failed with ${failed}`), { code: failed });
}

/**
 * A query built once per database and then only run: drizzle assembles a query's SQL anew on
 * every call, which on the hot paths cost more than SQLite took to run it. `build` names its
 * values with `sql.placeholder()`; the caller passes them to get/all/run.
 */
export function preparedQuery<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const built = new WeakMap<Db, Q>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) built.set(db, (query = build(db)));
    return query;
  };
}

/** Values for a prepared insert: each column a placeholder of its own name. */
export function placeholders<K extends string>(...columns: K[]): Record<K, Placeholder<K>> {
  return Object.fromEntries(columns.map((c) => [c, sql.placeholder(c)])) as Record<K, Placeholder<K>>;
}

/**
 * The same for a prepared update's SET. drizzle binds a placeholder there with the column's
 * encoding as it does in an insert, but its types only admit values and SQL.
 */
export function updateSet<Row>(...columns: Array<keyof Row & string>): Partial<Row> {
  return placeholders(...columns) as Partial<Row>;
}

export { tables };

/** Whether the database answers (for /readyz); throws what the driver threw otherwise. */
export function pingDatabase(db: Db): void {
  db.$client.prepare('select 1').get();
}
