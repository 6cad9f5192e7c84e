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
export type Dialect = 'sqlite' | 'postgres';
/** The table objects of a dialect: schema/tables.ts here, schema/tables.pg.ts (same names, same JS types) on PostgreSQL. */
export type Tables = typeof tables;

/**
 * What a repository gets: the dialect, the drizzle handle (typed as SQLite's; the PostgreSQL store
 * passes its own, whose builders are awaited instead of run) and the tables of that dialect.
 * Repositories build queries on `db` from `t` and run them through first/many/exec or a
 * preparedQuery, never through a driver's own methods, so that both stores can share them.
 */
export interface Tx {
  readonly dialect: Dialect;
  readonly db: Db;
  readonly t: Tables;
}

/**
 * The database as use cases see it. `transaction` runs `fn` as one transaction, after those
 * begun before it; `reader` serves reads outside any transaction.
 */
export interface Store {
  readonly dialect: Dialect;
  /** Reads outside a transaction (a read-only connection on SQLite files; the writer in memory). */
  readonly reader: Tx;
  /**
   * Runs `fn` in one transaction: committed when its promise resolves, rolled back when it
   * rejects. Never call it from inside `fn` (a use case that calls another passes its `tx`):
   * the inner call would wait for the outer one to finish, which waits for it.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Whether the database can take a write (for /readyz and at start): a committed write of one
   * meta row, and no transaction failed for storage since the last one that succeeded. Rejects
   * with the driver's error, or one naming the last storage failure.
   */
  probeWrite(): Promise<void>;
  /** Whether the database answers (for /readyz); rejects with what the driver threw otherwise. */
  ping(): Promise<void>;
  /** Waits for the transactions queued and closes every connection. */
  close(): Promise<void>;
}

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

function openEncrypted(file: string, key: Uint8Array, opts: { readonly?: boolean } = {}): Database.Database {
  const client = new (cipherDriver())(file, { readonly: opts.readonly ?? false });
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

/** SQLite's codes for a database that cannot take a write (disk full, read-only file, I/O error). */
export function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN)/.test(code);
}

/**
 * The SQLite store: one writer connection whose transactions (`BEGIN IMMEDIATE … COMMIT`) run one
 * after another in the order they were asked for, so that an `await` inside one never lets another
 * transaction's statements onto the connection; and, for a file, a second, read-only connection for
 * reads outside a transaction (WAL lets it read the last commit while a transaction is open).
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  /** The writer's handle, for the SQLite-only functions (migrations, backup, pragmas) and tests. */
  readonly db: Db;
  private readonly writer: Tx;
  private readerTx: Tx | undefined;
  private readonly openReader: (() => Db) | undefined;
  private busy = false;
  private readonly waiting: Array<() => void> = [];
  /** The last transaction's storage failure (disk full, read-only, I/O error), until one succeeds. */
  private writeFailure: string | undefined;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;

  constructor(db: Db, openReader?: () => Db) {
    this.db = db;
    this.writer = { dialect: 'sqlite', db, t: tables };
    this.openReader = openReader;
    this.begin = db.$client.prepare('begin immediate');
    this.commit = db.$client.prepare('commit');
    this.rollback = db.$client.prepare('rollback');
  }

  get reader(): Tx {
    // Opened at first use: the file exists and is migrated by then.
    return (this.readerTx ??= this.openReader ? { dialect: 'sqlite', db: this.openReader(), t: tables } : this.writer);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.inTurn(fn, false);
  }

  /** Waits for the connection, then runs `fn` as a transaction; a probe's success does not clear a failure. */
  private async inTurn<T>(fn: (tx: Tx) => Promise<T>, probe: boolean): Promise<T> {
    if (this.busy) await new Promise<void>((resume) => this.waiting.push(resume));
    else this.busy = true;
    try {
      return await this.run(fn, probe);
    } finally {
      // Hands the connection to the next in line (still busy), or frees it.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy = false;
    }
  }

  private async run<T>(fn: (tx: Tx) => Promise<T>, probe: boolean): Promise<T> {
    const client = this.db.$client;
    try {
      this.begin.run();
      let result: T;
      try {
        result = await fn(this.writer);
        this.commit.run();
      } catch (err) {
        if (client.inTransaction) this.rollback.run();
        throw err;
      }
      if (!probe) this.writeFailure = undefined;
      return result;
    } catch (err) {
      if (isStorageError(err)) this.writeFailure = (err as { code: string }).code;
      throw err;
    }
  }

  async probeWrite(): Promise<void> {
    await this.inTurn(async () => {
      this.db.$client.prepare("insert into meta (key, value) values ('write_probe', ?) on conflict (key) do update set value = excluded.value").run(new Date().toISOString());
    }, true);
    const failed = this.writeFailure;
    if (failed) throw Object.assign(new Error(`the last write failed with ${failed}`), { code: failed });
  }

  async ping(): Promise<void> {
    this.reader.db.$client.prepare('select 1').get();
  }

  async close(): Promise<void> {
    // Waits its turn, so that the transactions queued before it finish.
    await this.transaction(async () => {});
    if (this.readerTx && this.readerTx !== this.writer) this.readerTx.db.$client.close();
    this.db.$client.close();
  }
}

/**
 * Opens the SQLite store on `file` (see openDatabase): a file gets a read-only reader connection
 * beside the writer, `:memory:` and an in-memory image read through the writer.
 */
export function openStore(file: string | Buffer, opts: { key?: Uint8Array } = {}): SqliteStore {
  const db = openDatabase(file, opts);
  const onDisk = typeof file === 'string' && file !== ':memory:';
  return new SqliteStore(db, onDisk ? () => openReaderDatabase(file, opts) : undefined);
}

/** A read-only connection on a database file another connection writes (WAL mode). */
function openReaderDatabase(file: string, opts: { key?: Uint8Array }): Db {
  const client = opts.key ? openEncrypted(file, opts.key, { readonly: true }) : new Database(file, { readonly: true });
  client.pragma('busy_timeout = 5000');
  cacheStatements(client);
  return drizzle({ client, schema: tables }) as Db;
}

/** The writer's drizzle handle of a SQLite store or transaction; for SQLite-only functions, which say so. */
export function sqliteDb(of: Store | Tx): Db {
  if (of.dialect !== 'sqlite') throw new Error('this needs the SQLite store');
  return of instanceof SqliteStore ? of.db : (of as Tx).db;
}

/** The first row a query gives (undefined when none). */
export async function first<Q extends { get(): unknown }>(tx: Tx, query: Q): Promise<ReturnType<Q['get']>> {
  if (tx.dialect === 'sqlite') return query.get() as ReturnType<Q['get']>;
  return ((await (query as unknown as PromiseLike<unknown[]>))[0]) as ReturnType<Q['get']>;
}

/** Every row a query gives. */
export async function many<Q extends { all(): unknown }>(tx: Tx, query: Q): Promise<ReturnType<Q['all']>> {
  if (tx.dialect === 'sqlite') return query.all() as ReturnType<Q['all']>;
  return (await (query as unknown as PromiseLike<unknown>)) as ReturnType<Q['all']>;
}

/** Runs a write; resolves to the number of rows it changed. */
export async function exec(tx: Tx, query: { run(): unknown }): Promise<number> {
  if (tx.dialect === 'sqlite') return (query.run() as Database.RunResult).changes;
  return ((await (query as unknown as PromiseLike<{ rowCount?: number | null }>)).rowCount ?? 0);
}

type Values = Record<string, unknown>;
/** A query prepared on SQLite (drizzle's synchronous prepared query). */
interface SqlitePrepared {
  get(values?: Values): unknown;
  all(values?: Values): unknown;
  run(values?: Values): unknown;
}

/** A prepared query bound to one connection, run with its placeholders' values. */
export interface Prepared<P extends SqlitePrepared> {
  first(values?: Values): Promise<ReturnType<P['get']>>;
  many(values?: Values): Promise<ReturnType<P['all']>>;
  /** Resolves to the number of rows changed. */
  exec(values?: Values): Promise<number>;
}

/**
 * A query built once per connection and then only run: drizzle assembles a query's SQL anew on
 * every call, which on the hot paths cost more than SQLite took to run it. `build` returns the
 * query (not prepared) with its values named by `sql.placeholder()`; the caller passes them to
 * first/many/exec.
 */
export function preparedQuery<P extends SqlitePrepared>(build: (tx: Tx) => { prepare(name?: string): P }): (tx: Tx) => Prepared<P> {
  const built = new WeakMap<Db, Prepared<P>>();
  const name = `q${++preparedCount}`;
  return (tx) => {
    let runner = built.get(tx.db);
    if (runner === undefined) built.set(tx.db, (runner = prepare(tx, build(tx), name)));
    return runner;
  };
}
let preparedCount = 0;

function prepare<P extends SqlitePrepared>(tx: Tx, query: { prepare(name?: string): P }, name: string): Prepared<P> {
  if (tx.dialect === 'sqlite') {
    const q = query.prepare();
    return {
      first: async (values) => q.get(values) as ReturnType<P['get']>,
      many: async (values) => q.all(values) as ReturnType<P['all']>,
      exec: async (values) => (q.run(values) as Database.RunResult).changes,
    };
  }
  // PostgreSQL: a named prepared statement (`.prepare(name)`), run with `.execute(values)`,
  // which resolves to the rows (a select) or the driver's result (a write, with rowCount).
  const q = query.prepare(name) as unknown as { execute(values?: Values): Promise<unknown> };
  return {
    first: async (values) => ((await q.execute(values)) as unknown[])[0] as ReturnType<P['get']>,
    many: async (values) => (await q.execute(values)) as ReturnType<P['all']>,
    exec: async (values) => ((await q.execute(values)) as { rowCount?: number | null }).rowCount ?? 0,
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

/** SQLite only: applies the generated migrations (see migrateDatabase) through the writer. */
export async function migrateStore(store: Store): Promise<void> {
  migrateDatabase(sqliteDb(store));
}
