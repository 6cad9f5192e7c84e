import { eq, sql } from 'drizzle-orm';
import { subjects } from '../../schema/tables.ts';
import { newId } from '../crypto/ids.ts';
import type { KeyRing } from '../crypto/key-ring.ts';
import { newDataKey } from '../crypto/seal.ts';
import { placeholders, preparedQuery, type Tx } from './db.ts';

const byPseudonym = preparedQuery((db) => db.select().from(subjects).where(eq(subjects.pseudonym, sql.placeholder('pseudonym'))).prepare());
const byId = preparedQuery((db) => db.select().from(subjects).where(eq(subjects.id, sql.placeholder('id'))).prepare());
const insertSubject = preparedQuery((db) => db.insert(subjects).values(placeholders('id', 'pseudonym', 'wrappedKey', 'kekVersion', 'createdAt')).prepare());

export interface SubjectKey {
  subjectId: string;
  dataKey: Uint8Array;
}

/** Finds the subject by pseudonym, or creates it with a fresh data key wrapped by the current KEK. */
export function findOrCreateSubject(tx: Tx, keys: KeyRing, pseudonym: string, now: Date): SubjectKey {
  const existing = byPseudonym(tx).get({ pseudonym });
  if (existing) {
    return { subjectId: existing.id, dataKey: keys.unwrapDataKey(existing.wrappedKey, existing.kekVersion, existing.id) };
  }
  const subjectId = newId('sub', now);
  const dataKey = newDataKey();
  const { wrapped, kekVersion } = keys.wrapDataKey(dataKey, subjectId);
  insertSubject(tx).run({ id: subjectId, pseudonym, wrappedKey: Buffer.from(wrapped), kekVersion, createdAt: now.toISOString() });
  return { subjectId, dataKey };
}

/** The subject's data key and pseudonym, to open what was sealed for it. */
export function loadSubjectKey(tx: Tx, keys: KeyRing, subjectId: string): SubjectKey & { pseudonym: string } {
  const row = byId(tx).get({ id: subjectId });
  if (!row) throw new Error(`subject ${subjectId} has no key`);
  return { subjectId, pseudonym: row.pseudonym, dataKey: keys.unwrapDataKey(row.wrappedKey, row.kekVersion, row.id) };
}
