import { and, asc, eq, inArray } from 'drizzle-orm';
import { agencies, auditLog, signals, subjects } from '../../schema/tables.ts';
import type { Tx } from './db.ts';

/** The queries behind a family's access and erasure requests. */

export type SubjectSignalRow = typeof signals.$inferSelect;
export type SubjectAuditRow = typeof auditLog.$inferSelect;
export interface AgencyRow {
  id: string;
  name: string;
  type: string;
  status: 'active' | 'disabled';
}

export { subjectIdOf } from './subjects.ts';

/** Every signal of the subject, active and ended, oldest first. */
export function signalsOfSubject(tx: Tx, subjectId: string): SubjectSignalRow[] {
  return tx.select().from(signals).where(eq(signals.subjectId, subjectId)).orderBy(asc(signals.registeredAt), asc(signals.id)).all();
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

/** The active WIJ teams and municipality agencies of a municipality, with the districts they serve. */
export function coordinatorsOf(tx: Tx, municipality: string): Array<{ agencyId: string; agencyType: string; municipality: string; districts: string[] }> {
  return tx
    .select({ agencyId: agencies.id, agencyType: agencies.type, municipality: agencies.municipality, districts: agencies.districts })
    .from(agencies)
    .where(and(eq(agencies.municipality, municipality), eq(agencies.status, 'active'), inArray(agencies.type, ['wij', 'municipality'])))
    .all();
}
