import { lt } from 'drizzle-orm';
import { exec, type Tx } from './db.ts';

/** Client-assertion ids seen, kept until the assertion would have expired (replay defence). */

/** Forgets the assertions that expired before `now` (an ISO time): they could not be replayed. */
export async function forgetExpiredAssertions(tx: Tx, now: string): Promise<void> {
  await exec(tx, tx.db.delete(tx.t.usedAssertions).where(lt(tx.t.usedAssertions.expiresAt, now)));
}

/**
 * Records the agency's assertion `jti` as used until `expiresAt`; false when it was used already
 * (a replay). The primary key decides, so two requests with one assertion cannot both pass.
 */
export async function markAssertionUsed(tx: Tx, assertion: { agencyId: string; jti: string; expiresAt: string }): Promise<boolean> {
  return (await exec(tx, tx.db.insert(tx.t.usedAssertions).values(assertion).onConflictDoNothing())) > 0;
}
