import { lte, sql } from 'drizzle-orm';
import { exec, first, type Tx } from './db.ts';

/**
 * Counts one attempt of `key` and says whether it is within `max` attempts of its window. A window
 * starts with a key's first attempt (or its first after the last window ended) and ends at
 * `windowEndsAt`; attempts beyond `max` are refused and not counted. Windows that ended by `now`
 * are swept first.
 *
 * One upsert counts and decides, so the instances of a deployment count together: on PostgreSQL
 * the insert that meets an existing row locks it to commit, and a concurrent attempt of the same
 * key waits, then counts on from the committed count; on SQLite the one writer serialises them.
 */
export async function countAttempt(tx: Tx, attempt: { key: string; now: string; windowEndsAt: string; max: number }): Promise<boolean> {
  const { signInAttempts: a } = tx.t;
  const { key, now, windowEndsAt, max } = attempt;
  await exec(tx, tx.db.delete(a).where(lte(a.windowEndsAt, now)));
  const ended = sql`${a.windowEndsAt} <= ${now}`;
  const counted = await first(
    tx,
    tx.db
      .insert(a)
      .values({ key, count: 1, windowEndsAt })
      .onConflictDoUpdate({
        target: a.key,
        set: {
          count: sql`case when ${ended} then 1 else ${a.count} + 1 end`,
          windowEndsAt: sql`case when ${ended} then excluded.window_ends_at else ${a.windowEndsAt} end`,
        },
        setWhere: sql`${ended} or ${a.count} < ${max}`,
      })
      .returning({ count: a.count }),
  );
  return counted !== undefined;
}
