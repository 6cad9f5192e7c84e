import { asc, eq, inArray } from 'drizzle-orm';
import { agencies, auditLog, signalFamilies, signals, subjects } from '../../schema/tables.ts';
import type { Tx } from './db.ts';
import type { SignalRow } from './signals.ts';

/** The queries behind a family's access and erasure requests. */

export type { SignalRow as SubjectSignalRow } from './signals.ts';
export type SubjectAuditRow = typeof auditLog.$inferSelect;
export interface AgencyRow {
  id: string;
  name: string;
  type: string;
  status: 'active' | 'disabled';
}

export { subjectIdOf } from './subjects.ts';

/** Every signal of the subject, active and ended, oldest first. */
export function signalsOfSubject(tx: Tx, subjectId: string): SignalRow[] {
  return tx.select().from(signals).where(eq(signals.subjectId, subjectId)).orderBy(asc(signals.registeredAt), asc(signals.id)).all();
}

/** Every signal registered with the family's parent, active and ended, oldest first, with its child's pseudonym. */
export function signalsOfFamily(tx: Tx, familyId: string): Array<{ signal: SignalRow; childPseudonym: string }> {
  return tx
    .select({ signal: signals, childPseudonym: subjects.pseudonym })
    .from(signalFamilies)
    .innerJoin(signals, eq(signals.id, signalFamilies.signalId))
    .innerJoin(subjects, eq(subjects.id, signals.subjectId))
    .where(eq(signalFamilies.familyId, familyId))
    .orderBy(asc(signals.registeredAt), asc(signals.id))
    .all();
}

/** Takes a parent's name off every registration that gave it: the family's signals are its no more. */
export function unlinkFamily(tx: Tx, familyId: string): number {
  return tx.delete(signalFamilies).where(eq(signalFamilies.familyId, familyId)).run().changes;
}

/** Every audit record about the subject, in chain order. */
export function auditOfSubject(tx: Tx, pseudonym: string): SubjectAuditRow[] {
  return tx.select().from(auditLog).where(eq(auditLog.subject, pseudonym)).orderBy(asc(auditLog.seq)).all();
}

export function agenciesByIds(tx: Tx, ids: Iterable<string>): Map<string, AgencyRow> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  return new Map(
    tx.select({ id: agencies.id, name: agencies.name, type: agencies.type, status: agencies.status }).from(agencies).where(inArray(agencies.id, unique)).all()
      .map((a) => [a.id, a]),
  );
}
