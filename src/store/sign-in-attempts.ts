import { lte, sql } from 'drizzle-orm';
import { placeholders, preparedQuery, type Tx } from './db.ts';

/** Windows that ended by `now`. */
const sweepAttempts = preparedQuery(({ db, t: { signInAttempts: a } }) => db.delete(a).where(lte(a.windowEndsAt, sql.placeholder('now'))));

/** One attempt counted, or nothing returned when the key's window is full. */
const upsertAttempt = preparedQuery(({ db, t: { signInAttempts: a } }) => {
  const ended = sql`${a.windowEndsAt} <= ${sql.placeholder('now')}`;
  return db
    .insert(a)
    .values({ ...placeholders('key', 'windowEndsAt'), count: 1 })
    .onConflictDoUpdate({
      target: a.key,
      set: {
        count: sql`case when ${ended} then 1 else ${a.count} + 1 end`,
        windowEndsAt: sql`case when ${ended} then excluded.window_ends_at else ${a.windowEndsAt} end`,
      },
      setWhere: sql`${ended} or ${a.count} < ${sql.placeholder('max')}`,
    })
    .returning({ count: a.count });
});

/**
 * Counts one attempt of `key` and says whether it is within `max` attempts of its window. A window
 * starts with a key's first attempt (or its first after the last window ended) and ends at
 * `windowEndsAt`; attempts beyond `max` are refused and not counted. Windows that ended by `now`
 * are swept first.
 *
 * One upsert counts and decides, so the instances of a deployment count together: on PostgreSQL
 * the insert that meets an existing row locks it to commit, and a concurrent attempt of the same
 * key waits, then counts on from the committed count; on SQLite the one writer serialises them.
 * Both statements are prepared once per connection: this runs on every sign-in request.
 */
export async function countAttempt(tx: Tx, attempt: { key: string; now: string; windowEndsAt: string; max: number }): Promise<boolean> {
  await sweepAttempts(tx).exec({ now: attempt.now });
  return (await upsertAttempt(tx).first(attempt)) !== undefined;
}
