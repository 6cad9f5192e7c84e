import { and, count, eq, gt, inArray, lte, max, notExists, sql } from 'drizzle-orm';
// The statuses of a live match belong with the matches; they are read from where they are kept today.
import { LIVE_STATUSES } from './matches.ts';
import { many, preparedQuery, type Tables, type Tx, updateSet } from './db.ts';
import type { SignalRow } from './signals.ts';

/** The retention sweep's queries (DESIGN rule 5): what expires, what is due to end, what may be destroyed. */

export interface DueSignal {
  id: string;
  subjectId: string;
  pseudonym: string;
  /** Whether ending it can change a match (SQLite answers 0 or 1). */
  live: number;
}

export interface DoomedSubject {
  id: string;
  pseudonym: string;
}

const dueWhere = ({ signals }: Tables) => and(eq(signals.status, 'active'), lte(signals.expiresAt, sql.placeholder('at')));
const countDue = preparedQuery(({ db, t }) => db.select({ count: count() }).from(t.signals).where(dueWhere(t)));
const dueBatch = preparedQuery(({ db, t, t: { matches, signalFamilies, signals, subjects } }) =>
  db
    .select({
      id: signals.id,
      subjectId: signals.subjectId,
      pseudonym: subjects.pseudonym,
      // Whether ending it can change a match: the young person's, or a family match it counts in.
      live: sql<number>`exists (select 1 from ${matches} where ${matches.subjectId} = ${signals.subjectId} and ${inArray(matches.status, [...LIVE_STATUSES])})
        or exists (select 1 from ${signalFamilies} where ${signalFamilies.signalId} = ${signals.id})`,
    })
    .from(signals)
    .innerJoin(subjects, eq(subjects.id, signals.subjectId))
    .where(dueWhere(t))
    .limit(sql.placeholder('limit')),
);
const endExpired = preparedQuery(({ db, t: { signals } }) =>
  db
    .update(signals)
    .set({ ...updateSet<SignalRow>('endedAt', 'updatedAt'), status: 'ended', endReason: 'expired' })
    .where(and(eq(signals.id, sql.placeholder('id')), eq(signals.status, 'active'))),
);

/** The ids of the active signals that expire after `at` and by `soon`. */
export async function signalsExpiringBetween(tx: Tx, at: string, soon: string): Promise<string[]> {
  const { signals } = tx.t;
  const rows = await many(tx, tx.db.select({ id: signals.id }).from(signals).where(and(eq(signals.status, 'active'), lte(signals.expiresAt, soon), gt(signals.expiresAt, at))));
  return rows.map((s) => s.id);
}

/** How many active signals are past their expiry at `at`. */
export async function countExpiredSignals(tx: Tx, at: string): Promise<number> {
  return Number((await countDue(tx).first({ at }))?.count ?? 0);
}

/** Up to `limit` active signals past their expiry at `at`, first on the expiry index, with their subject. */
export async function expiredSignalsBatch(tx: Tx, at: string, limit: number): Promise<DueSignal[]> {
  return dueBatch(tx).many({ at, limit });
}

/** Ends the signal as expired if it is still active; returns how many it ended (0 or 1). */
export async function endExpiredSignal(tx: Tx, id: string, at: string): Promise<number> {
  return endExpired(tx).exec({ id, endedAt: at, updatedAt: at });
}

/**
 * The subjects with no active signal and no live match whose last signal ended by `cutoff`.
 * Reads the whole set, to be destroyed in batches.
 */
export async function subjectsPastArchive(tx: Tx, cutoff: string): Promise<DoomedSubject[]> {
  const { db, t: { matches, signals, subjects } } = tx;
  return many(
    tx,
    db
      .select({ id: subjects.id, pseudonym: subjects.pseudonym })
      .from(subjects)
      .where(
        and(
          notExists(db.select({ x: sql`1` }).from(signals).where(and(eq(signals.subjectId, subjects.id), eq(signals.status, 'active')))),
          notExists(db.select({ x: sql`1` }).from(matches).where(and(eq(matches.subjectId, subjects.id), inArray(matches.status, [...LIVE_STATUSES])))),
          lte(db.select({ last: max(signals.endedAt) }).from(signals).where(eq(signals.subjectId, subjects.id)), cutoff),
        ),
      ),
  );
}

/** The families no signal is registered with any more. */
export async function familiesWithoutSignals(tx: Tx): Promise<DoomedSubject[]> {
  const { db, t: { signalFamilies, subjects } } = tx;
  return many(
    tx,
    db
      .select({ id: subjects.id, pseudonym: subjects.pseudonym })
      .from(subjects)
      .where(and(eq(subjects.kind, 'family'), notExists(db.select({ x: sql`1` }).from(signalFamilies).where(eq(signalFamilies.familyId, subjects.id))))),
  );
}
