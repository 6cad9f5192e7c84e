import { and, eq, sql } from 'drizzle-orm';
import { newId } from '../crypto/ids.ts';
import type { KeyRing } from '../crypto/key-ring.ts';
import { newDataKey } from '../crypto/seal.ts';
import { placeholders, preparedQuery, type Tx } from './db.ts';
import { lockSubject } from './locks.ts';

const byPseudonym = preparedQuery(({ db, t: { subjects } }) =>
  db.select().from(subjects).where(and(eq(subjects.kind, sql.placeholder('kind')), eq(subjects.pseudonym, sql.placeholder('pseudonym')))),
);
const byId = preparedQuery(({ db, t: { subjects } }) => db.select().from(subjects).where(eq(subjects.id, sql.placeholder('id'))));
// Does nothing where another transaction made the subject first (PostgreSQL, several instances): that one is then read.
const insertSubject = preparedQuery(({ db, t }) => db.insert(t.subjects).values(placeholders('id', 'kind', 'pseudonym', 'wrappedKey', 'kekVersion', 'createdAt')).onConflictDoNothing());

export type SubjectKind = 'person' | 'family';

export interface SubjectKey {
  subjectId: string;
  dataKey: Uint8Array;
}

/**
 * How the audit log names a subject: a young person by the pseudonym of their BSN, a family by the
 * pseudonym of its parent's BSN marked as a family (a parent can be a young person of the index too).
 */
export function auditName(kind: SubjectKind, pseudonym: string): string {
  return kind === 'family' ? `family:${pseudonym}` : pseudonym;
}

/**
 * Finds the subject by pseudonym, or creates it with a fresh data key wrapped by the current KEK.
 * On PostgreSQL the subject's row stays locked until the transaction ends (see lockSubject): what
 * the caller reads and writes about this young person next, no other instance changes meanwhile.
 */
export async function findOrCreateSubject(tx: Tx, keys: KeyRing, pseudonym: string, now: Date, kind: SubjectKind = 'person'): Promise<SubjectKey> {
  const existing = await byPseudonym(tx).first({ kind, pseudonym });
  if (existing) {
    if (tx.dialect === 'postgres') await lockSubject(tx, existing.id);
    return { subjectId: existing.id, dataKey: keys.unwrapDataKey(existing.wrappedKey, existing.kekVersion, existing.id) };
  }
  const subjectId = newId(kind === 'family' ? 'fam' : 'sub', now);
  const dataKey = newDataKey();
  const { wrapped, kekVersion } = keys.wrapDataKey(dataKey, subjectId);
  const made = await insertSubject(tx).exec({ id: subjectId, kind, pseudonym, wrappedKey: Buffer.from(wrapped), kekVersion, createdAt: now.toISOString() });
  // Only on PostgreSQL can another transaction have made it meanwhile (SQLite has one writer).
  if (made === 0) return findOrCreateSubject(tx, keys, pseudonym, now, kind);
  return { subjectId, dataKey };
}

/** The id of the young person (or family) of this pseudonym, if the index knows them. */
export async function subjectIdOf(tx: Tx, pseudonym: string, kind: SubjectKind = 'person'): Promise<string | undefined> {
  return (await byPseudonym(tx).first({ kind, pseudonym }))?.id;
}

/**
 * The subject's data key, kind and name in the audit log (`pseudonym`), to open what was sealed
 * for it and to record who it concerned.
 */
export type LoadedSubjectKey = SubjectKey & { pseudonym: string; kind: SubjectKind };

export async function loadSubjectKey(tx: Tx, keys: KeyRing, subjectId: string): Promise<LoadedSubjectKey> {
  const row = await byId(tx).first({ id: subjectId });
  if (!row) throw new Error(`subject ${subjectId} has no key`);
  return { subjectId, kind: row.kind, pseudonym: auditName(row.kind, row.pseudonym), dataKey: keys.unwrapDataKey(row.wrappedKey, row.kekVersion, row.id) };
}

/** The data keys of several subjects, each unwrapped once however often it is asked for. */
export function subjectKeys(tx: Tx, keys: KeyRing): (subjectId: string) => Promise<LoadedSubjectKey> {
  const known = new Map<string, LoadedSubjectKey>();
  return async (subjectId) => {
    let key = known.get(subjectId);
    if (!key) known.set(subjectId, (key = await loadSubjectKey(tx, keys, subjectId)));
    return key;
  };
}
