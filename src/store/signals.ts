import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { signals } from '../../schema/tables.ts';
import { exec, first, many, placeholders, preparedQuery, type Tx } from './db.ts';

/** The signals of the agencies, and the families their young people were registered with. */

export type SignalRow = typeof signals.$inferSelect;
export type SignalStatus = SignalRow['status'];
/** What sealing a signal's update changes. */
export type SignalReseal = Pick<SignalRow, 'informingPending' | 'updatedAt' | 'sealed'>;
/** What ending a signal changes. */
export type SignalEnding = Pick<SignalRow, 'status' | 'endedAt' | 'endReason' | 'updatedAt'>;

const byIdOfAgency = preparedQuery(({ db, t }) =>
  db.select().from(t.signals).where(and(eq(t.signals.id, sql.placeholder('id')), eq(t.signals.agencyId, sql.placeholder('agencyId')))),
);
const activeSignalOf = preparedQuery(({ db, t }) =>
  db
    .select({ id: t.signals.id })
    .from(t.signals)
    .where(and(eq(t.signals.agencyId, sql.placeholder('agencyId')), eq(t.signals.subjectId, sql.placeholder('subjectId')), eq(t.signals.status, 'active'))),
);
const insert = preparedQuery(({ db, t }) =>
  db
    .insert(t.signals)
    .values(
      placeholders(
        'id', 'agencyId', 'subjectId', 'status', 'municipality', 'informingPending', 'expiresAt', 'registeredAt', 'updatedAt', 'endedAt', 'endReason', 'sealed',
      ),
    ),
);
const familyPseudonymsOf = preparedQuery(({ db, t }) =>
  db
    .select({ pseudonym: t.subjects.pseudonym })
    .from(t.signalFamilies)
    .innerJoin(t.subjects, eq(t.subjects.id, t.signalFamilies.familyId))
    .where(eq(t.signalFamilies.signalId, sql.placeholder('signalId'))),
);
const linkFamily = preparedQuery(({ db, t }) => db.insert(t.signalFamilies).values(placeholders('signalId', 'familyId')));

/** The agency's signal of this id; undefined when there is none or it is another agency's. */
export async function ownSignal(tx: Tx, agencyId: string, id: string): Promise<SignalRow | undefined> {
  return byIdOfAgency(tx).first({ id, agencyId });
}

/** The id of the agency's active signal for the subject, if it has one (there is at most one). */
export async function activeSignalIdOf(tx: Tx, agencyId: string, subjectId: string): Promise<string | undefined> {
  return (await activeSignalOf(tx).first({ agencyId, subjectId }))?.id;
}

/** The signal of this id while it is active. */
export async function activeSignal(tx: Tx, id: string): Promise<SignalRow | undefined> {
  const { signals } = tx.t;
  return first(tx, tx.db.select().from(signals).where(and(eq(signals.id, id), eq(signals.status, 'active'))));
}

export async function insertSignal(tx: Tx, row: SignalRow): Promise<void> {
  await insert(tx).exec(row);
}

/** The pseudonyms of the parents (families) the signal was registered with. */
export async function familyPseudonymsOfSignal(tx: Tx, signalId: string): Promise<string[]> {
  return (await familyPseudonymsOf(tx).many({ signalId })).map((f) => f.pseudonym);
}

/** Records that the signal was registered with this family (a parent of its young person). */
export async function linkSignalToFamily(tx: Tx, signalId: string, familyId: string): Promise<void> {
  await linkFamily(tx).exec({ signalId, familyId });
}

/** Writes a signal's new sealed part and informing state. */
export async function resealSignal(tx: Tx, id: string, changes: SignalReseal): Promise<void> {
  await exec(tx, tx.db.update(tx.t.signals).set(changes).where(eq(tx.t.signals.id, id)));
}

/** Writes that a signal ended. */
export async function endSignal(tx: Tx, id: string, changes: SignalEnding): Promise<void> {
  await exec(tx, tx.db.update(tx.t.signals).set(changes).where(eq(tx.t.signals.id, id)));
}

/**
 * A page of the agency's own signals in id order (oldest first), optionally of one status and
 * after a given id; at most `limit` rows.
 */
export async function ownSignalsPage(tx: Tx, agencyId: string, page: { status?: SignalStatus; afterId?: string; limit: number }): Promise<SignalRow[]> {
  const { signals } = tx.t;
  const conditions: SQL[] = [eq(signals.agencyId, agencyId)];
  if (page.status) conditions.push(eq(signals.status, page.status));
  if (page.afterId) conditions.push(gt(signals.id, page.afterId));
  return many(tx, tx.db.select().from(signals).where(and(...conditions)).orderBy(asc(signals.id)).limit(page.limit));
}
