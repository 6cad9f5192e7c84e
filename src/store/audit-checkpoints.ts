import { desc, eq } from 'drizzle-orm';
import { auditCheckpoints } from '../../schema/tables.ts';
import type { Db, Tx } from './db.ts';

export type CheckpointRow = typeof auditCheckpoints.$inferSelect;

/** The checkpoint of the longest chain signed so far, if any. */
export function latestCheckpoint(db: Db | Tx): CheckpointRow | undefined {
  return db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1).get();
}

/**
 * Keeps a signed checkpoint; a second one for the same record (two instances signing at once)
 * is dropped, and the one kept is returned.
 */
export function saveCheckpoint(tx: Tx, row: CheckpointRow): CheckpointRow {
  tx.insert(auditCheckpoints).values(row).onConflictDoNothing().run();
  return tx.select().from(auditCheckpoints).where(eq(auditCheckpoints.seq, row.seq)).get()!;
}
