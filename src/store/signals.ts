import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import { signalFamilies, signals, subjects } from '../../schema/tables.ts';
import { placeholders, preparedQuery, type Tx } from './db.ts';

/** The signals of the agencies, and the families their young people were registered with. */

export type SignalRow = typeof signals.$inferSelect;
export type SignalStatus = SignalRow['status'];
/** What sealing a signal's update changes. */
export type SignalReseal = Pick<SignalRow, 'informingPending' | 'updatedAt' | 'sealed'>;
/** What ending a signal changes. */
export type SignalEnding = Pick<SignalRow, 'status' | 'endedAt' | 'endReason' | 'updatedAt'>;

const byIdOfAgency = preparedQuery((db) =>
  db.select().from(signals).where(and(eq(signals.id, sql.placeholder('id')), eq(signals.agencyId, sql.placeholder('agencyId')))).prepare(),
);
const activeSignalOf = preparedQuery((db) =>
  db
    .select({ id: signals.id })
    .from(signals)
    .where(and(eq(signals.agencyId, sql.placeholder('agencyId')), eq(signals.subjectId, sql.placeholder('subjectId')), eq(signals.status, 'active')))
    .prepare(),
);
const insert = preparedQuery((db) =>
  db
    .insert(signals)
    .values(
      placeholders(
        'id', 'agencyId', 'subjectId', 'status', 'municipality', 'informingPending', 'expiresAt', 'registeredAt', 'updatedAt', 'endedAt', 'endReason', 'sealed',
      ),
    )
    .prepare(),
);
const familyPseudonymsOf = preparedQuery((db) =>
  db
    .select({ pseudonym: subjects.pseudonym })
    .from(signalFamilies)
    .innerJoin(subjects, eq(subjects.id, signalFamilies.familyId))
    .where(eq(signalFamilies.signalId, sql.placeholder('signalId')))
    .prepare(),
);
const linkFamily = preparedQuery((db) => db.insert(signalFamilies).values(placeholders('signalId', 'familyId')).prepare());

/** The agency's signal of this id; undefined when there is none or it is another agency's. */
export function ownSignal(tx: Tx, agencyId: string, id: string): SignalRow | undefined {
  return byIdOfAgency(tx).get({ id, agencyId });
}

/** The id of the agency's active signal for the subject, if it has one (there is at most one). */
export function activeSignalIdOf(tx: Tx, agencyId: string, subjectId: string): string | undefined {
  return activeSignalOf(tx).get({ agencyId, subjectId })?.id;
}

/** The signal of this id while it is active. */
export function activeSignal(tx: Tx, id: string): SignalRow | undefined {
  return tx.select().from(signals).where(and(eq(signals.id, id), eq(signals.status, 'active'))).get();
}

export function insertSignal(tx: Tx, row: SignalRow): void {
  insert(tx).run(row);
}

/** The pseudonyms of the parents (families) the signal was registered with. */
export function familyPseudonymsOfSignal(tx: Tx, signalId: string): string[] {
  return familyPseudonymsOf(tx).all({ signalId }).map((f) => f.pseudonym);
}

/** Records that the signal was registered with this family (a parent of its young person). */
export function linkSignalToFamily(tx: Tx, signalId: string, familyId: string): void {
  linkFamily(tx).run({ signalId, familyId });
}

/** Writes a signal's new sealed part and informing state. */
export function resealSignal(tx: Tx, id: string, changes: SignalReseal): void {
  tx.update(signals).set(changes).where(eq(signals.id, id)).run();
}

/** Writes that a signal ended. */
export function endSignal(tx: Tx, id: string, changes: SignalEnding): void {
  tx.update(signals).set(changes).where(eq(signals.id, id)).run();
}

/**
 * A page of the agency's own signals in id order (oldest first), optionally of one status and
 * after a given id; at most `limit` rows.
 */
export function ownSignalsPage(tx: Tx, agencyId: string, page: { status?: SignalStatus; afterId?: string; limit: number }): SignalRow[] {
  const conditions: SQL[] = [eq(signals.agencyId, agencyId)];
  if (page.status) conditions.push(eq(signals.status, page.status));
  if (page.afterId) conditions.push(gt(signals.id, page.afterId));
  return tx.select().from(signals).where(and(...conditions)).orderBy(asc(signals.id)).limit(page.limit).all();
}
