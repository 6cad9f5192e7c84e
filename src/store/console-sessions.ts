import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { consoleSessions } from '../../schema/tables.ts';
import { exec, first, many, type Tx } from './db.ts';

/** Console sessions, found by the hash of the cookie's secret; ended by revoking, never deleted early. */

export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;
export type NewConsoleSessionRow = typeof consoleSessions.$inferInsert;

export async function insertSession(tx: Tx, row: NewConsoleSessionRow): Promise<void> {
  await exec(tx, tx.db.insert(tx.t.consoleSessions).values(row));
}

export async function sessionByTokenHash(tx: Tx, tokenHash: string): Promise<ConsoleSessionRow | undefined> {
  const { consoleSessions } = tx.t;
  return first(tx, tx.db.select().from(consoleSessions).where(eq(consoleSessions.tokenHash, tokenHash)));
}

export async function touchSession(tx: Tx, id: string, at: string): Promise<void> {
  const { consoleSessions } = tx.t;
  await exec(tx, tx.db.update(consoleSessions).set({ lastSeenAt: at }).where(eq(consoleSessions.id, id)));
}

/** Ends one session (sign-out). */
export async function revokeSession(tx: Tx, id: string, at: string): Promise<void> {
  const { consoleSessions } = tx.t;
  await exec(tx, tx.db.update(consoleSessions).set({ revokedAt: at }).where(and(eq(consoleSessions.id, id), isNull(consoleSessions.revokedAt))));
}

/** Ends every session of the professional ("sign out everywhere"); how many were still open. */
export async function revokeAllSessions(tx: Tx, professionalId: string, at: string): Promise<number> {
  const { consoleSessions } = tx.t;
  return exec(tx, tx.db.update(consoleSessions).set({ revokedAt: at }).where(and(eq(consoleSessions.professionalId, professionalId), isNull(consoleSessions.revokedAt))));
}

/** The professional's sessions not revoked and not past their absolute end, newest first (idle ones included until swept). */
export async function openSessionsOf(tx: Tx, professionalId: string, now: string): Promise<ConsoleSessionRow[]> {
  const { consoleSessions } = tx.t;
  return many(
    tx,
    tx.db
      .select()
      .from(consoleSessions)
      .where(and(eq(consoleSessions.professionalId, professionalId), isNull(consoleSessions.revokedAt), sql`${consoleSessions.expiresAt} > ${now}`))
      .orderBy(desc(consoleSessions.lastSeenAt)),
  );
}
