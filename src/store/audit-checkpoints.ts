import { desc, eq } from 'drizzle-orm';
import type { auditCheckpoints } from '../../schema/tables.ts';
import { exec, first, type Tx } from './db.ts';

export type CheckpointRow = typeof auditCheckpoints.$inferSelect;

/** The checkpoint of the longest chain signed so far, if any. */
export async function latestCheckpoint(tx: Tx): Promise<CheckpointRow | undefined> {
  const { auditCheckpoints } = tx.t;
  return first(tx, tx.db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1));
}

/**
 * Keeps a signed checkpoint; a second one for the same record (two instances signing at once)
 * is dropped, and the one kept is returned.
 */
export async function saveCheckpoint(tx: Tx, row: CheckpointRow): Promise<CheckpointRow> {
  const { auditCheckpoints } = tx.t;
  await exec(tx, tx.db.insert(auditCheckpoints).values(row).onConflictDoNothing());
  return (await first(tx, tx.db.select().from(auditCheckpoints).where(eq(auditCheckpoints.seq, row.seq))))!;
}
