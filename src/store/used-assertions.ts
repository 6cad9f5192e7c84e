import { lt } from 'drizzle-orm';
import { usedAssertions } from '../../schema/tables.ts';
import type { Tx } from './db.ts';

/** Client-assertion ids seen, kept until the assertion would have expired (replay defence). */

/** Forgets the assertions that expired before `now` (an ISO time): they could not be replayed. */
export function forgetExpiredAssertions(tx: Tx, now: string): void {
  tx.delete(usedAssertions).where(lt(usedAssertions.expiresAt, now)).run();
}

/**
 * Records the agency's assertion `jti` as used until `expiresAt`; false when it was used already
 * (a replay). The primary key decides, so two requests with one assertion cannot both pass.
 */
export function markAssertionUsed(tx: Tx, assertion: { agencyId: string; jti: string; expiresAt: string }): boolean {
  return tx.insert(usedAssertions).values(assertion).onConflictDoNothing().run().changes > 0;
}
