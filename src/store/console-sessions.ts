import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { consoleSessions } from '../../schema/tables.ts';
import { type AuditEntry, appendAudit } from './audit.ts';
import { type Db, inTransaction, type Tx } from './db.ts';

/** Console sessions, found by the hash of the cookie's secret; ended by revoking, never deleted early. */

export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;
export type NewConsoleSessionRow = typeof consoleSessions.$inferInsert;

/** Inserts a session row in the caller's transaction (enrolment starts one beside its other rows). */
export function insertSessionRow(tx: Tx, row: NewConsoleSessionRow): void {
  tx.insert(consoleSessions).values(row).run();
}

/** Starts a session and records the sign-in, together. */
export async function startSession(db: Db, row: NewConsoleSessionRow, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    insertSessionRow(tx, row);
    appendAudit(tx, audit);
  });
}

export async function sessionByTokenHash(db: Db, tokenHash: string): Promise<ConsoleSessionRow | undefined> {
  return db.select().from(consoleSessions).where(eq(consoleSessions.tokenHash, tokenHash)).get();
}

export async function touchSession(db: Db, id: string, at: string): Promise<void> {
  db.update(consoleSessions).set({ lastSeenAt: at }).where(eq(consoleSessions.id, id)).run();
}

/** Ends one session (sign-out) and records it. */
export async function revokeSession(db: Db, id: string, at: string, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    tx.update(consoleSessions).set({ revokedAt: at }).where(and(eq(consoleSessions.id, id), isNull(consoleSessions.revokedAt))).run();
    appendAudit(tx, audit);
  });
}

/** Ends every session of the professional ("sign out everywhere"); how many were still open. */
export async function revokeAllSessions(db: Db, professionalId: string, at: string, audit: AuditEntry): Promise<number> {
  return inTransaction(db, (tx) => {
    const r = tx
      .update(consoleSessions)
      .set({ revokedAt: at })
      .where(and(eq(consoleSessions.professionalId, professionalId), isNull(consoleSessions.revokedAt)))
      .run();
    appendAudit(tx, audit);
    return r.changes;
  });
}

/** The professional's sessions not revoked and not past their absolute end, newest first (idle ones included until swept). */
export async function openSessionsOf(db: Db, professionalId: string, now: string): Promise<ConsoleSessionRow[]> {
  return db
    .select()
    .from(consoleSessions)
    .where(and(eq(consoleSessions.professionalId, professionalId), isNull(consoleSessions.revokedAt), sql`${consoleSessions.expiresAt} > ${now}`))
    .orderBy(desc(consoleSessions.lastSeenAt))
    .all();
}

/** Records a console event that changes no other row (a refused sign-in). */
export async function recordConsoleEvent(db: Db, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => appendAudit(tx, audit));
}
