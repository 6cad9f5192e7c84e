import { and, count, eq, gt, inArray, lte, max, notExists, sql } from 'drizzle-orm';
import { matches, signalFamilies, signals, subjects } from '../../schema/tables.ts';
// The statuses of a live match belong with the matches; they are read from where they are kept today.
import { LIVE_STATUSES } from './matches.ts';
import { preparedQuery, type Tx, updateSet } from './db.ts';
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

const dueWhere = and(eq(signals.status, 'active'), lte(signals.expiresAt, sql.placeholder('at')));
const countDue = preparedQuery((db) => db.select({ count: count() }).from(signals).where(dueWhere).prepare());
const dueBatch = preparedQuery((db) =>
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
    .where(dueWhere)
    .limit(sql.placeholder('limit'))
    .prepare(),
);
const endExpired = preparedQuery((db) =>
  db
    .update(signals)
    .set({ ...updateSet<SignalRow>('endedAt', 'updatedAt'), status: 'ended', endReason: 'expired' })
    .where(and(eq(signals.id, sql.placeholder('id')), eq(signals.status, 'active')))
    .prepare(),
);

/** The ids of the active signals that expire after `at` and by `soon`. */
export function signalsExpiringBetween(tx: Tx, at: string, soon: string): string[] {
  return tx
    .select({ id: signals.id })
    .from(signals)
    .where(and(eq(signals.status, 'active'), lte(signals.expiresAt, soon), gt(signals.expiresAt, at)))
    .all()
    .map((s) => s.id);
}

/** How many active signals are past their expiry at `at`. */
export function countExpiredSignals(tx: Tx, at: string): number {
  return countDue(tx).get({ at })?.count ?? 0;
}

/** Up to `limit` active signals past their expiry at `at`, first on the expiry index, with their subject. */
export function expiredSignalsBatch(tx: Tx, at: string, limit: number): DueSignal[] {
  return dueBatch(tx).all({ at, limit });
}

/** Ends the signal as expired if it is still active; returns how many it ended (0 or 1). */
export function endExpiredSignal(tx: Tx, id: string, at: string): number {
  return endExpired(tx).run({ id, endedAt: at, updatedAt: at }).changes;
}

/**
 * The subjects with no active signal and no live match whose last signal ended by `cutoff`.
 * Reads the whole set, to be destroyed in batches.
 */
export function subjectsPastArchive(tx: Tx, cutoff: string): DoomedSubject[] {
  return tx
    .select({ id: subjects.id, pseudonym: subjects.pseudonym })
    .from(subjects)
    .where(
      and(
        notExists(tx.select({ x: sql`1` }).from(signals).where(and(eq(signals.subjectId, subjects.id), eq(signals.status, 'active')))),
        notExists(tx.select({ x: sql`1` }).from(matches).where(and(eq(matches.subjectId, subjects.id), inArray(matches.status, [...LIVE_STATUSES])))),
        lte(tx.select({ last: max(signals.endedAt) }).from(signals).where(eq(signals.subjectId, subjects.id)), cutoff),
      ),
    )
    .all();
}

/** The families no signal is registered with any more. */
export function familiesWithoutSignals(tx: Tx): DoomedSubject[] {
  return tx
    .select({ id: subjects.id, pseudonym: subjects.pseudonym })
    .from(subjects)
    .where(and(eq(subjects.kind, 'family'), notExists(tx.select({ x: sql`1` }).from(signalFamilies).where(eq(signalFamilies.familyId, subjects.id)))))
    .all();
}
