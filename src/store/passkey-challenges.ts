import { eq, lte } from 'drizzle-orm';
import type { passkeyChallenges } from '../../schema/tables.ts';
import { exec, first, type Tx } from './db.ts';

/**
 * Passkey challenges (src/console/passkeys.ts) in the database, so that a ceremony begun on one
 * instance can be finished on another, and each challenge is answered once across all of them.
 */

export type PasskeyChallengeRow = typeof passkeyChallenges.$inferSelect;

/** Keeps a challenge handed out, after removing those that expired by `now` (an ISO time). */
export async function insertPasskeyChallenge(tx: Tx, row: PasskeyChallengeRow, now: string): Promise<void> {
  const { passkeyChallenges } = tx.t;
  await exec(tx, tx.db.delete(passkeyChallenges).where(lte(passkeyChallenges.expiresAt, now)));
  await exec(tx, tx.db.insert(passkeyChallenges).values(row));
}

/**
 * Takes the challenge out and gives back what it was handed out for, or undefined when it is not
 * there (never handed out, swept, or taken already). One DELETE … RETURNING decides: of two
 * instances taking the same challenge at once, one gets the row and the other nothing (on
 * PostgreSQL the second waits for the first's row lock and then finds the row gone).
 */
export async function takePasskeyChallenge(tx: Tx, challenge: string): Promise<PasskeyChallengeRow | undefined> {
  const { passkeyChallenges } = tx.t;
  return first(tx, tx.db.delete(passkeyChallenges).where(eq(passkeyChallenges.challenge, challenge)).returning());
}
