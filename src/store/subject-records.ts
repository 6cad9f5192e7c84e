import { asc, eq, inArray } from 'drizzle-orm';
import type { auditLog } from '../../schema/tables.ts';
import { flushAudit } from './audit.ts';
import { exec, many, type Tx } from './db.ts';
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
export async function signalsOfSubject(tx: Tx, subjectId: string): Promise<SignalRow[]> {
  const { signals } = tx.t;
  return many(tx, tx.db.select().from(signals).where(eq(signals.subjectId, subjectId)).orderBy(asc(signals.registeredAt), asc(signals.id)));
}

/** Every signal registered with the family's parent, active and ended, oldest first, with its child's pseudonym. */
export async function signalsOfFamily(tx: Tx, familyId: string): Promise<Array<{ signal: SignalRow; childPseudonym: string }>> {
  const { signalFamilies, signals, subjects } = tx.t;
  return many(
    tx,
    tx.db
      .select({ signal: signals, childPseudonym: subjects.pseudonym })
      .from(signalFamilies)
      .innerJoin(signals, eq(signals.id, signalFamilies.signalId))
      .innerJoin(subjects, eq(subjects.id, signals.subjectId))
      .where(eq(signalFamilies.familyId, familyId))
      .orderBy(asc(signals.registeredAt), asc(signals.id)),
  );
}

/** Takes a parent's name off every registration that gave it: the family's signals are its no more. */
export async function unlinkFamily(tx: Tx, familyId: string): Promise<number> {
  const { signalFamilies } = tx.t;
  return exec(tx, tx.db.delete(signalFamilies).where(eq(signalFamilies.familyId, familyId)));
}

/** Every audit record about the subject, in chain order. */
export async function auditOfSubject(tx: Tx, pseudonym: string): Promise<SubjectAuditRow[]> {
  await flushAudit(tx);
  const { auditLog } = tx.t;
  return many(tx, tx.db.select().from(auditLog).where(eq(auditLog.subject, pseudonym)).orderBy(asc(auditLog.seq)));
}

export async function agenciesByIds(tx: Tx, ids: Iterable<string>): Promise<Map<string, AgencyRow>> {
  const { agencies } = tx.t;
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await many(
    tx,
    tx.db.select({ id: agencies.id, name: agencies.name, type: agencies.type, status: agencies.status }).from(agencies).where(inArray(agencies.id, unique)),
  );
  return new Map(rows.map((a) => [a.id, a]));
}
