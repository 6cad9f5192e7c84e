import { and, asc, count, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { agencies, consoleSessions, passkeys, professionalInvitations, professionals } from '../../schema/tables.ts';
import { type AuditEntry, appendAudit } from './audit.ts';
import { type Db, inTransaction } from './db.ts';
import { type NewConsoleSessionRow, insertSessionRow } from './console-sessions.ts';

/**
 * Professionals of agencies, their invitations and passkeys. The functions return promises
 * although SQLite answers at once, so that callers already await what the PostgreSQL store will
 * make asynchronous; a change of several rows is one function with its own transaction.
 */

export type ProfessionalRow = typeof professionals.$inferSelect;
export type NewProfessionalRow = typeof professionals.$inferInsert;
export type ProfessionalStatus = ProfessionalRow['status'];
export type InvitationRow = typeof professionalInvitations.$inferSelect;
export type PasskeyRow = typeof passkeys.$inferSelect;
export type NewPasskeyRow = typeof passkeys.$inferInsert;

export async function professionalById(db: Db, id: string): Promise<ProfessionalRow | undefined> {
  return db.select().from(professionals).where(eq(professionals.id, id)).get();
}

/** The professional of this agency, or undefined for an id of another agency (never told apart). */
export async function professionalOfAgency(db: Db, agencyId: string, id: string): Promise<ProfessionalRow | undefined> {
  return db.select().from(professionals).where(and(eq(professionals.id, id), eq(professionals.agencyId, agencyId))).get();
}

export async function professionalByEmail(db: Db, agencyId: string, email: string): Promise<ProfessionalRow | undefined> {
  return db.select().from(professionals).where(and(eq(professionals.agencyId, agencyId), eq(professionals.email, email))).get();
}

/** The agency's professionals by name, each with how many passkeys they hold. */
export async function professionalsOfAgency(db: Db, agencyId: string): Promise<Array<ProfessionalRow & { passkeys: number }>> {
  const rows = db.select().from(professionals).where(eq(professionals.agencyId, agencyId)).orderBy(asc(professionals.name), asc(professionals.id)).all();
  if (rows.length === 0) return [];
  const counts = db
    .select({ professionalId: passkeys.professionalId, n: count() })
    .from(passkeys)
    .where(inArray(passkeys.professionalId, rows.map((r) => r.id)))
    .groupBy(passkeys.professionalId)
    .all();
  const byId = new Map(counts.map((c) => [c.professionalId, c.n]));
  return rows.map((r) => ({ ...r, passkeys: byId.get(r.id) ?? 0 }));
}

/** A new professional (status invited) and the invitation to enrol, together. */
export async function insertInvitedProfessional(db: Db, professional: NewProfessionalRow, invitation: InvitationRow, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    tx.insert(professionals).values(professional).run();
    tx.insert(professionalInvitations).values(invitation).run();
    appendAudit(tx, audit);
  });
}

/** A new invitation for a professional who has one already or lost theirs; earlier unused ones stop working. */
export async function replaceInvitation(db: Db, invitation: InvitationRow, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    tx.update(professionalInvitations)
      .set({ usedAt: invitation.createdAt })
      .where(and(eq(professionalInvitations.professionalId, invitation.professionalId), isNull(professionalInvitations.usedAt)))
      .run();
    tx.insert(professionalInvitations).values(invitation).run();
    appendAudit(tx, audit);
  });
}

/** An unused, unexpired invitation with its professional (active or invited, in an active agency). */
export async function openInvitation(db: Db, tokenHash: string, now: string): Promise<{ invitation: InvitationRow; professional: ProfessionalRow } | undefined> {
  const row = db
    .select({ invitation: professionalInvitations, professional: professionals })
    .from(professionalInvitations)
    .innerJoin(professionals, eq(professionals.id, professionalInvitations.professionalId))
    .innerJoin(agencies, eq(agencies.id, professionals.agencyId))
    .where(
      and(
        eq(professionalInvitations.tokenHash, tokenHash),
        isNull(professionalInvitations.usedAt),
        sql`${professionalInvitations.expiresAt} > ${now}`,
        ne(professionals.status, 'disabled'),
        eq(agencies.status, 'active'),
      ),
    )
    .get();
  return row;
}

/**
 * Enrolment: the invitation is used up, the passkey kept, the professional active, and the first
 * session started, in one transaction. False when the invitation was used meanwhile.
 */
export async function completeEnrolment(
  db: Db,
  e: { tokenHash: string; passkey: NewPasskeyRow; session: NewConsoleSessionRow; at: string; audit: AuditEntry[] },
): Promise<boolean> {
  return inTransaction(db, (tx) => {
    const used = tx
      .update(professionalInvitations)
      .set({ usedAt: e.at })
      .where(and(eq(professionalInvitations.tokenHash, e.tokenHash), isNull(professionalInvitations.usedAt)))
      .run();
    if (used.changes !== 1) return false;
    tx.insert(passkeys).values(e.passkey).run();
    tx.update(professionals).set({ status: 'active' }).where(and(eq(professionals.id, e.passkey.professionalId), eq(professionals.status, 'invited'))).run();
    insertSessionRow(tx, e.session);
    appendAudit(tx, ...e.audit);
    return true;
  });
}

export async function setProfessionalRoles(db: Db, id: string, roles: string[], audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    tx.update(professionals).set({ roles }).where(eq(professionals.id, id)).run();
    appendAudit(tx, audit);
  });
}

/** Disables a professional and ends every session of theirs; enabling restores their sign-in. */
export async function setProfessionalStatus(db: Db, id: string, status: 'active' | 'disabled', at: string, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    tx.update(professionals).set({ status }).where(eq(professionals.id, id)).run();
    if (status === 'disabled') {
      tx.update(consoleSessions).set({ revokedAt: at }).where(and(eq(consoleSessions.professionalId, id), isNull(consoleSessions.revokedAt))).run();
    }
    appendAudit(tx, audit);
  });
}

export async function passkeyById(db: Db, id: string): Promise<PasskeyRow | undefined> {
  return db.select().from(passkeys).where(eq(passkeys.id, id)).get();
}

export async function passkeysOf(db: Db, professionalId: string): Promise<PasskeyRow[]> {
  return db.select().from(passkeys).where(eq(passkeys.professionalId, professionalId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id)).all();
}

export async function insertPasskey(db: Db, row: NewPasskeyRow, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    tx.insert(passkeys).values(row).run();
    appendAudit(tx, audit);
  });
}

/** Removes one of the professional's passkeys, never the last one. */
export async function removePasskey(db: Db, professionalId: string, id: string, audit: AuditEntry): Promise<'removed' | 'last' | 'missing'> {
  return inTransaction(db, (tx) => {
    const held = tx.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.professionalId, professionalId)).all();
    if (!held.some((p) => p.id === id)) return 'missing';
    if (held.length === 1) return 'last';
    tx.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.professionalId, professionalId))).run();
    appendAudit(tx, audit);
    return 'removed';
  });
}

export async function recordPasskeyUse(db: Db, id: string, counter: number, at: string): Promise<void> {
  db.update(passkeys).set({ counter, lastUsedAt: at }).where(eq(passkeys.id, id)).run();
}

/** The districts that active WIJ teams and municipalities serve, by municipality (what a registration may name). */
export async function servedDistricts(db: Db): Promise<Map<string, string[]>> {
  const rows = db
    .select({ municipality: agencies.municipality, districts: agencies.districts })
    .from(agencies)
    .where(and(eq(agencies.status, 'active'), inArray(agencies.type, ['wij', 'municipality'])))
    .all();
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = out.get(r.municipality) ?? new Set<string>();
    for (const d of r.districts) set.add(d);
    out.set(r.municipality, set);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)).map(([m, s]) => [m, [...s].sort()]));
}
