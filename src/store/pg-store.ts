import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as pgTables from '../../schema/tables.pg.ts';
import { lostRace } from './conflicts.ts';
import type { Store } from './db.ts';
import { migratePostgres, pendingPostgresMigrations, type PgDb, postgresErrorCode } from './pg.ts';

/**
 * The PostgreSQL store: the same Store shape as the SQLite one (src/store/db.ts), over a
 * node-postgres pool, so that every repository runs unchanged on either (they take their tables
 * from `tx.t` and dispatch on `tx.dialect`).
 */

export type PgTables = typeof pgTables;

/** A transaction (or the reader) of the PostgreSQL store. */
export interface PgTx {
  dialect: 'postgres';
  db: PgDb;
  t: PgTables;
  /**
   * Work to run after `fn` and just before COMMIT, in order (a transaction's own list; absent on
   * the reader): what must take a lock held to commit does it there, so that it holds it briefly
   * (store/audit.ts appends the transaction's audit records this way).
   */
  beforeCommit?: Array<() => Promise<void>>;
}

export type PgIsolation = 'read committed' | 'repeatable read' | 'serializable';

export interface PgTransactionOptions {
  /** READ COMMITTED unless a use case needs more (its reads must not change under it). */
  isolation?: PgIsolation;
}

export interface PgStore {
  dialect: 'postgres';
  transaction<T>(fn: (tx: PgTx) => Promise<T>, opts?: PgTransactionOptions): Promise<T>;
  /** Reads outside a transaction, each statement on whichever pooled connection is free. */
  reader: PgTx;
  /** The pool the transactions and the reader use. */
  pool: pg.Pool;
  /**
   * A connection of its own, outside the pool, for what must hold one for a while (a job's session
   * lock: locks.ts); the caller ends it.
   */
  connect(): Promise<pg.Client>;
  /** Applies schema/migrations-pg; run once, before the instances start (`betrokken migrate`). */
  migrate(): Promise<void>;
  /** How many of this version's migrations the database has not had (0: up to date). */
  pendingMigrations(): Promise<number>;
  /** Whether the database answers (for /readyz); throws what the driver threw otherwise. */
  ping(): Promise<void>;
  /** Whether the database can take a write (for /readyz and at start): a committed write of one meta row. */
  probeWrite(): Promise<void>;
  /** Waits for the queries under way and closes every connection of the pool. */
  close(): Promise<void>;
}

export interface PgStoreOptions {
  /** Connections in the pool (BETROKKEN_DB_POOL_SIZE; node-postgres' default is 10). */
  max?: number;
  /** The isolation level of every transaction that asks for none. */
  isolation?: PgIsolation;
  /** Runs of a transaction that ends in a serialisation failure or a deadlock, the first included. */
  attempts?: number;
  /** The first retry's delay; it doubles per retry, with jitter. */
  retryDelayMs?: number;
  application_name?: string;
}

/** 40001 serialization_failure and 40P01 deadlock_detected: the transaction can simply run again. */
export const RETRYABLE = new Set(['40001', '40P01']);

/**
 * Opens the store on the PostgreSQL database at `url` (BETROKKEN_DATABASE_URL). Opening connects
 * nothing yet; the first query does.
 *
 * `transaction` checks a connection out of the pool, runs `BEGIN ISOLATION LEVEL …`, `fn`, and
 * COMMIT. A serialisation failure or deadlock (in `fn` or at COMMIT), or a lost race on a unique
 * rule that decides between transactions doing the same thing (conflicts.ts: the other committed
 * it first, and `fn` reads it when run again, as it would have on SQLite), rolls back and runs `fn`
 * again, up to `attempts` times in all, after a short random delay so that the two contenders do
 * not meet again; any other error rolls back and is thrown. `fn` may therefore run more than once:
 * it must not have effects outside the database (send nothing, log nothing that counts) before it
 * returns.
 *
 * Each pooled connection keeps one drizzle instance, made the first time the connection serves a
 * transaction. Making one (with the schema) takes about 210 µs, which nearly doubled a transaction
 * of one primary-key select on loopback (520 µs against 290 µs reusing it; test/bench/pg-drizzle.ts).
 */
export function openPgStore(url: string, opts: PgStoreOptions = {}): PgStore {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, application_name: opts.application_name ?? 'betrokken' });
  // An idle connection that the server drops (restart, failover) must not crash the process; the
  // pool replaces it, and the query that next needs a connection sees the error if it lasts.
  pool.on('error', () => {});
  const readerDb = drizzle({ client: pool, schema: pgTables }) as PgDb;
  const reader: PgTx = { dialect: 'postgres', db: readerDb, t: pgTables };
  const perClient = new WeakMap<pg.PoolClient, PgTx>();
  const attempts = Math.max(1, opts.attempts ?? 8);
  const retryDelayMs = opts.retryDelayMs ?? 5;
  const defaultIsolation = opts.isolation ?? 'read committed';

  const txOf = (client: pg.PoolClient): PgTx => {
    let tx = perClient.get(client);
    if (!tx) {
      tx = { dialect: 'postgres', db: drizzle({ client, schema: pgTables }) as unknown as PgDb, t: pgTables };
      perClient.set(client, tx);
    }
    return tx;
  };

  async function runOnce<T>(fn: (tx: PgTx) => Promise<T>, isolation: PgIsolation): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`begin isolation level ${isolation}`);
      try {
        const beforeCommit: Array<() => Promise<void>> = [];
        const result = await fn({ ...txOf(client), beforeCommit });
        for (const hook of beforeCommit) await hook();
        await client.query('commit');
        return result;
      } catch (err) {
        try {
          await client.query('rollback');
        } catch (rollbackErr) {
          // The connection is unusable (the server went away): the pool must not hand it out again.
          broken = rollbackErr as Error;
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  let closed: Promise<void> | undefined;
  return {
    dialect: 'postgres',
    reader,
    pool,
    async transaction<T>(fn: (tx: PgTx) => Promise<T>, txOpts: PgTransactionOptions = {}): Promise<T> {
      const isolation = txOpts.isolation ?? defaultIsolation;
      for (let attempt = 1; ; attempt++) {
        try {
          return await runOnce(fn, isolation);
        } catch (err) {
          const code = postgresErrorCode(err);
          if (!code || !(RETRYABLE.has(code) || lostRace(err)) || attempt >= attempts) throw err;
          await new Promise((r) => setTimeout(r, retryDelay(attempt, retryDelayMs)));
        }
      }
    },
    async connect() {
      const client = new pg.Client({ connectionString: url, application_name: opts.application_name ?? 'betrokken' });
      client.on('error', () => {});
      await client.connect();
      return client;
    },
    migrate: () => migratePostgres(readerDb),
    pendingMigrations: () => pendingPostgresMigrations(pool),
    async ping() {
      await pool.query('select 1');
    },
    async probeWrite() {
      await pool.query("insert into meta (key, value) values ('write_probe', $1) on conflict (key) do update set value = excluded.value", [new Date().toISOString()]);
    },
    // Closing twice (a shutdown and a test's own cleanup) waits for the one close.
    close: () => (closed ??= pool.end()),
  };
}

/** Before the `attempt`th retry: baseMs doubled per retry (at most 64 times), half fixed and half random. */
export function retryDelay(attempt: number, baseMs: number, random = Math.random): number {
  const delay = baseMs * 2 ** Math.min(attempt - 1, 6);
  return delay / 2 + (random() * delay) / 2;
}

/**
 * The PostgreSQL store as use cases see every store (db.ts). Its transactions hand repositories a
 * PostgreSQL drizzle handle and tables where the Store type names SQLite's: the repositories
 * dispatch on `tx.dialect` wherever the two differ (db.ts: first, many, exec, preparedQuery).
 */
export function asStore(store: PgStore): Store & PgStore {
  return store as unknown as Store & PgStore;
}

/** The PostgreSQL store behind a Store, or undefined for SQLite. */
export function pgStoreOf(store: Store): PgStore | undefined {
  return store.dialect === 'postgres' ? (store as unknown as PgStore) : undefined;
}
