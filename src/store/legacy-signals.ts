import { asc, eq, sql } from 'drizzle-orm';
import type { legacySignalFields, signals } from '../../schema/tables.ts';
import { preparedQuery, sqliteDb, type Store, type Tx, updateSet } from './db.ts';

/** A signal of a database made before migration 0004, with what it still held in the clear. */
export interface LegacySignal {
  legacy: typeof legacySignalFields.$inferSelect;
  signal: typeof signals.$inferSelect | null;
}

const batch = preparedQuery(({ db, t: { legacySignalFields, signals } }) =>
  db
    .select({ legacy: legacySignalFields, signal: signals })
    .from(legacySignalFields)
    .leftJoin(signals, eq(signals.id, legacySignalFields.signalId))
    .orderBy(asc(legacySignalFields.signalId))
    .limit(sql.placeholder('limit')),
);
const setSealed = preparedQuery(({ db, t: { signals } }) =>
  db.update(signals).set(updateSet<typeof signals.$inferSelect>('sealed')).where(eq(signals.id, sql.placeholder('id'))),
);
const forget = preparedQuery(({ db, t: { legacySignalFields } }) => db.delete(legacySignalFields).where(eq(legacySignalFields.signalId, sql.placeholder('id'))));

/** The next signals whose plaintext fields still wait to be sealed. */
export async function legacySignalBatch(tx: Tx, limit: number): Promise<LegacySignal[]> {
  return batch(tx).many({ limit });
}

/** Stores a signal's new sealed part and forgets its plaintext fields, in the caller's transaction. */
export async function replaceLegacySignal(tx: Tx, signalId: string, sealed: Buffer | null): Promise<void> {
  if (sealed) await setSealed(tx).exec({ id: signalId, sealed });
  await forget(tx).exec({ id: signalId });
}

/**
 * SQLite: copies every page back into the file and cuts the WAL, so that no old page lingers
 * there. PostgreSQL keeps no such file of ours (its storage is the server's): nothing to do.
 */
export async function checkpointTruncate(store: Store): Promise<void> {
  if (store.dialect !== 'sqlite') return;
  sqliteDb(store).$client.pragma('wal_checkpoint(TRUNCATE)');
}
