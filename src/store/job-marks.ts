import { jobMarks } from '../../schema/tables.ts';
import type { Tx } from './db.ts';

/**
 * Marks that a job did `kind` for `ref`; true only the first time. A job that checks this in the
 * transaction that writes its notice sends nothing twice, however often or concurrently it runs.
 */
export function markOnce(tx: Tx, kind: string, ref: string, at: string): boolean {
  return tx.insert(jobMarks).values({ kind, ref, at }).onConflictDoNothing().run().changes === 1;
}
