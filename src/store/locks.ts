import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { PgDb } from './pg.ts';
import type { PgStore } from './pg-store.ts';

/**
 * What keeps several instances of the service on one PostgreSQL database correct, as store
 * functions with an implementation per dialect. On SQLite one process owns the database and
 * its transactions are serialised already (one writer connection), so they cost nothing there.
 *
 * The functions take any store transaction (`{ dialect, db }`): the SQLite store's and the
 * PostgreSQL store's (pg-store.ts) have that shape.
 */
export interface DialectTx {
  dialect: 'sqlite' | 'postgres';
  db: unknown;
}

export interface DialectStore {
  dialect: 'sqlite' | 'postgres';
}

/**
 * PostgreSQL advisory locks are named by two 32-bit numbers; the first says whose lock it is, so
 * that Betrokken's cannot meet another application's on a shared server: 'btka' for the audit
 * chain, 'btkj' for jobs.
 */
export const AUDIT_LOCK_SPACE = 0x62746b61;
export const JOB_LOCK_SPACE = 0x62746b6a;
/** The audit chain's lock within its space (there is one chain). */
export const AUDIT_CHAIN_LOCK = 1;

/** A job's lock within the job space: the first four bytes of SHA-256 of its name, as a signed 32-bit number. */
export function jobLockKey(name: string): number {
  return createHash('sha256').update(`job:${name}`).digest().readInt32BE(0);
}

/**
 * Takes the audit chain's lock until the transaction ends. appendAudit reads the chain's head and
 * writes seq+1 with the head's hash in it: two instances doing that at once would both read the
 * same head, and one append would fail on the sequence number (or, without that key, fork the
 * chain). Taken before the head is read and held to COMMIT, it makes appends one at a time across
 * instances; under READ COMMITTED the head read after it sees the previous holder's commit.
 *
 * Take it as late as the use case allows (it is held until commit, and every audited change waits
 * for it), and only under READ COMMITTED: a REPEATABLE READ or SERIALIZABLE transaction that has
 * already read something keeps its older snapshot and would not see the last append.
 */
export async function lockAuditChain(tx: DialectTx): Promise<void> {
  if (tx.dialect !== 'postgres') return;
  await (tx.db as PgDb).execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_SPACE}::int, ${AUDIT_CHAIN_LOCK}::int)`);
}

/**
 * Locks a young person's (or family's) row until the transaction ends, on PostgreSQL. Two
 * instances registering for the same young person at once would each not see the other's
 * uncommitted signal under READ COMMITTED, and neither would make the match; with the row locked
 * the second waits for the first to commit, and its next statements see what the first wrote.
 * On SQLite the one writer does this already.
 */
export async function lockSubject(tx: DialectTx, subjectId: string): Promise<void> {
  if (tx.dialect !== 'postgres') return;
  await (tx.db as PgDb).execute(sql`select 1 from subjects where id = ${subjectId} for update`);
}

export type JobLockResult<T> = { ran: true; value: T } | { ran: false };

/** Jobs running in this process, per store: a job never overlaps itself here either. */
const running = new WeakMap<object, Set<string>>();

/**
 * Runs a periodic job only if no other instance (and no other run in this process) is running it:
 * `{ ran: false }` otherwise, without waiting. Any instance may run jobs; whichever gets the lock
 * does, the others skip that round.
 *
 * On PostgreSQL the lock is a session advisory lock on a connection of its own, outside the pool,
 * held while `fn` runs its transactions on pooled connections and released after it (and by the
 * server if the process dies, since its connection closes). A job lock does not by itself make a
 * job's effects happen once: it spares the duplicate work, and the job's own marks (job_marks,
 * written in the transaction of the notice they stand for) keep every reminder to one even when
 * two instances' rounds follow each other.
 */
export async function withJobLock<T>(store: DialectStore, name: string, fn: () => Promise<T>): Promise<JobLockResult<T>> {
  let names = running.get(store);
  if (!names) running.set(store, (names = new Set()));
  if (names.has(name)) return { ran: false };
  names.add(name);
  try {
    if (store.dialect !== 'postgres') return { ran: true, value: await fn() };
    const client = await (store as PgStore).connect();
    try {
      const key = jobLockKey(name);
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::int, $2::int) as locked', [JOB_LOCK_SPACE, key]);
      if (!rows[0]?.locked) return { ran: false };
      // Ending the connection (below) releases the lock; the explicit unlock is not needed.
      return { ran: true, value: await fn() };
    } finally {
      await client.end().catch(() => {});
    }
  } finally {
    names.delete(name);
  }
}
