import { eq, lte, sql } from 'drizzle-orm';
import type { passkeyChallenges } from '../../schema/tables.ts';
import { placeholders, preparedQuery, type Tx } from './db.ts';

/**
 * Passkey challenges (src/console/passkeys.ts) in the database, so that a ceremony begun on one
 * instance can be finished on another, and each challenge is answered once across all of them.
 * The queries are prepared once per connection: they run on every passkey sign-in.
 */

export type PasskeyChallengeRow = typeof passkeyChallenges.$inferSelect;

const sweep = preparedQuery(({ db, t: { passkeyChallenges: c } }) => db.delete(c).where(lte(c.expiresAt, sql.placeholder('now'))));
const insert = preparedQuery(({ db, t: { passkeyChallenges: c } }) => db.insert(c).values(placeholders('challenge', 'purpose', 'professionalId', 'expiresAt')));
const take = preparedQuery(({ db, t: { passkeyChallenges: c } }) => db.delete(c).where(eq(c.challenge, sql.placeholder('challenge'))).returning());

/** Keeps a challenge handed out, after removing those that expired by `now` (an ISO time). */
export async function insertPasskeyChallenge(tx: Tx, row: PasskeyChallengeRow, now: string): Promise<void> {
  await sweep(tx).exec({ now });
  await insert(tx).exec(row);
}

/**
 * Takes the challenge out and gives back what it was handed out for, or undefined when it is not
 * there (never handed out, swept, or taken already). One DELETE … RETURNING decides: of two
 * instances taking the same challenge at once, one gets the row and the other nothing (on
 * PostgreSQL the second waits for the first's row lock and then finds the row gone).
 */
export async function takePasskeyChallenge(tx: Tx, challenge: string): Promise<PasskeyChallengeRow | undefined> {
  return take(tx).first({ challenge });
}
