import { asc, eq, sql } from 'drizzle-orm';
import { legacySignalFields, signals } from '../../schema/tables.ts';
import { type Db, preparedQuery, type Tx, updateSet } from './db.ts';

/** A signal of a database made before migration 0004, with what it still held in the clear. */
export interface LegacySignal {
  legacy: typeof legacySignalFields.$inferSelect;
  signal: typeof signals.$inferSelect | null;
}

const batch = preparedQuery((db) =>
  db
    .select({ legacy: legacySignalFields, signal: signals })
    .from(legacySignalFields)
    .leftJoin(signals, eq(signals.id, legacySignalFields.signalId))
    .orderBy(asc(legacySignalFields.signalId))
    .limit(sql.placeholder('limit'))
    .prepare(),
);
const setSealed = preparedQuery((db) =>
  db.update(signals).set(updateSet<typeof signals.$inferSelect>('sealed')).where(eq(signals.id, sql.placeholder('id'))).prepare(),
);
const forget = preparedQuery((db) => db.delete(legacySignalFields).where(eq(legacySignalFields.signalId, sql.placeholder('id'))).prepare());

/** The next signals whose plaintext fields still wait to be sealed. */
export function legacySignalBatch(tx: Tx, limit: number): LegacySignal[] {
  return batch(tx).all({ limit });
}

/** Stores a signal's new sealed part and forgets its plaintext fields, in the caller's transaction. */
export function replaceLegacySignal(tx: Tx, signalId: string, sealed: Buffer | null): void {
  if (sealed) setSealed(tx).run({ id: signalId, sealed });
  forget(tx).run({ id: signalId });
}

/** Copies every page back into the file and cuts the WAL, so that no old page lingers there. */
export function checkpointTruncate(db: Db): void {
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
}
