import { and, asc, eq, inArray, lte } from 'drizzle-orm';
import * as pgTables from '../../schema/tables.pg.ts';
import * as sqliteTables from '../../schema/tables.ts';
import type { Db } from './db.ts';
import type { DialectTx } from './locks.ts';
import type { PgDb } from './pg.ts';

export type ClaimedNotice = typeof sqliteTables.notices.$inferSelect;

/**
 * How long a claim holds its notices: one delivery attempt may take the webhook timeout, twice
 * that and a margin covers the round that claimed them (claiming one round's worth at a time).
 */
export function deliveryLeaseMs(timeoutMs: number): number {
  return 2 * timeoutMs + 5_000;
}

/**
 * Claims up to `limit` notices whose webhook delivery is due at `now`, oldest first, for this
 * instance until `leaseUntil`: their next attempt moves to `leaseUntil`, so no other instance's
 * claim returns them before then. The caller delivers them after the claim's transaction commits
 * and records each outcome (delivered, or the next attempt after backoff) with updateDelivery,
 * which ends the lease. If the instance dies first, the lease runs out and another instance
 * delivers the notice: at least once, with the same `webhook-id` (the notice's id) on every
 * attempt, so a receiver can drop the repeat.
 *
 * The lease must outlast a delivery round (deliveryLeaseMs) (the webhook timeout times the rounds a claim takes);
 * claiming one round's worth (the delivery concurrency) at a time keeps it short.
 *
 * On PostgreSQL one statement claims them: an UPDATE over a `SELECT … FOR UPDATE SKIP LOCKED`,
 * so two instances claiming at once each get other notices and neither waits for the other; a
 * notice another instance claimed and committed meanwhile is no longer due when re-checked. On
 * SQLite the one writer connection serialises claims, and the same select and update do.
 *
 * This replaces dueDeliveries (notices.ts) in the delivery worker (notify/delivery.ts).
 */
export async function claimDueNotices(tx: DialectTx, now: string, limit: number, leaseUntil: string): Promise<ClaimedNotice[]> {
  if (tx.dialect === 'postgres') {
    const db = tx.db as PgDb;
    const n = pgTables.notices;
    const due = db
      .select({ id: n.id })
      .from(n)
      .where(and(eq(n.delivery, 'pending'), lte(n.nextAttemptAt, now)))
      .orderBy(asc(n.nextAttemptAt), asc(n.id))
      .limit(limit)
      .for('update', { skipLocked: true });
    const rows = await db.update(n).set({ nextAttemptAt: leaseUntil }).where(inArray(n.id, due)).returning();
    // RETURNING keeps no order; oldest first is by creation (ids are time-ordered too).
    return rows.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  }
  const db = tx.db as Db;
  const n = sqliteTables.notices;
  const rows = await db
    .select()
    .from(n)
    .where(and(eq(n.delivery, 'pending'), lte(n.nextAttemptAt, now)))
    .orderBy(asc(n.nextAttemptAt), asc(n.id))
    .limit(limit);
  if (rows.length === 0) return rows;
  await db
    .update(n)
    .set({ nextAttemptAt: leaseUntil })
    .where(inArray(n.id, rows.map((r) => r.id)));
  return rows.map((r) => ({ ...r, nextAttemptAt: leaseUntil }));
}

export type DeliveryOutcome = Partial<Pick<ClaimedNotice, 'delivery' | 'attempts' | 'nextAttemptAt' | 'deliveredAt' | 'lastError'>>;

/**
 * Records how a claimed notice's delivery went, if this claim still holds it: the row still has
 * the lease this instance claimed it with. An instance that took longer than its lease (paused,
 * cut off from the database) has lost the notice to another claim, and its late outcome must not
 * overwrite that one's; it returns false then and writes nothing.
 */
export async function recordDeliveryOutcome(tx: DialectTx, id: string, lease: string, changes: DeliveryOutcome): Promise<boolean> {
  if (tx.dialect === 'postgres') {
    const n = pgTables.notices;
    const rows = await (tx.db as PgDb)
      .update(n)
      .set(changes)
      .where(and(eq(n.id, id), eq(n.nextAttemptAt, lease)))
      .returning({ id: n.id });
    return rows.length === 1;
  }
  const n = sqliteTables.notices;
  const result = await (tx.db as Db)
    .update(n)
    .set(changes)
    .where(and(eq(n.id, id), eq(n.nextAttemptAt, lease)));
  return result.changes === 1;
}
