import { exec, type Tx } from './db.ts';

/**
 * Marks that a job did `kind` for `ref`; true only the first time. A job that checks this in the
 * transaction that writes its notice sends nothing twice, however often or concurrently it runs.
 */
export async function markOnce(tx: Tx, kind: string, ref: string, at: string): Promise<boolean> {
  return (await exec(tx, tx.db.insert(tx.t.jobMarks).values({ kind, ref, at }).onConflictDoNothing())) === 1;
}
