import { and, asc, count, eq, inArray, isNull, ne, type SQL, sql } from 'drizzle-orm';
import type { passkeys, professionalInvitations, professionals } from '../../schema/tables.ts';
import { exec, first, many, type Tx } from './db.ts';

/**
 * Professionals of agencies, their invitations and passkeys. Every function runs in the caller's
 * transaction (or on the reader, for reads): a use case that changes several rows calls several of
 * them in one withTransaction.
 */

export type ProfessionalRow = typeof professionals.$inferSelect;
export type NewProfessionalRow = typeof professionals.$inferInsert;
export type ProfessionalStatus = ProfessionalRow['status'];
export type InvitationRow = typeof professionalInvitations.$inferSelect;
export type PasskeyRow = typeof passkeys.$inferSelect;
export type NewPasskeyRow = typeof passkeys.$inferInsert;

export async function professionalById(tx: Tx, id: string): Promise<ProfessionalRow | undefined> {
  const { professionals } = tx.t;
  return first(tx, tx.db.select().from(professionals).where(eq(professionals.id, id)));
}

/** The professional of this agency, or undefined for an id of another agency (never told apart). */
export async function professionalOfAgency(tx: Tx, agencyId: string, id: string): Promise<ProfessionalRow | undefined> {
  const { professionals } = tx.t;
  return first(tx, tx.db.select().from(professionals).where(and(eq(professionals.id, id), eq(professionals.agencyId, agencyId))));
}

export async function professionalByEmail(tx: Tx, agencyId: string, email: string): Promise<ProfessionalRow | undefined> {
  const { professionals } = tx.t;
  return first(tx, tx.db.select().from(professionals).where(and(eq(professionals.agencyId, agencyId), eq(professionals.email, email))));
}

/** The professional an OpenID provider's subject was linked to at an earlier sign-in. */
export async function professionalByOidcSubject(tx: Tx, agencyId: string, issuer: string, subject: string): Promise<ProfessionalRow | undefined> {
  const { professionals } = tx.t;
  return first(
    tx,
    tx.db
      .select()
      .from(professionals)
      .where(and(eq(professionals.agencyId, agencyId), eq(professionals.oidcIssuer, issuer), eq(professionals.oidcSubject, subject))),
  );
}

/** The agency's professionals by name, each with how many passkeys they hold. */
export async function professionalsOfAgency(tx: Tx, agencyId: string): Promise<Array<ProfessionalRow & { passkeys: number }>> {
  const { professionals, passkeys } = tx.t;
  const rows = await many(tx, tx.db.select().from(professionals).where(eq(professionals.agencyId, agencyId)).orderBy(asc(professionals.name), asc(professionals.id)));
  if (rows.length === 0) return [];
  const counts = await many(
    tx,
    tx.db
      .select({ professionalId: passkeys.professionalId, n: count() })
      .from(passkeys)
      .where(inArray(passkeys.professionalId, rows.map((r) => r.id)))
      .groupBy(passkeys.professionalId),
  );
  const byId = new Map(counts.map((c) => [c.professionalId, Number(c.n)]));
  return rows.map((r) => ({ ...r, passkeys: byId.get(r.id) ?? 0 }));
}

export async function insertProfessional(tx: Tx, row: NewProfessionalRow): Promise<void> {
  await exec(tx, tx.db.insert(tx.t.professionals).values(row));
}

/** A new invitation; earlier unused ones of the same professional stop working. */
export async function replaceInvitation(tx: Tx, invitation: InvitationRow): Promise<void> {
  const { professionalInvitations } = tx.t;
  await exec(
    tx,
    tx.db
      .update(professionalInvitations)
      .set({ usedAt: invitation.createdAt })
      .where(and(eq(professionalInvitations.professionalId, invitation.professionalId), isNull(professionalInvitations.usedAt))),
  );
  await exec(tx, tx.db.insert(professionalInvitations).values(invitation));
}

/** Open invitations (unused, unexpired, of a professional not disabled in an active agency) with their professional, narrowed by `where`. */
function openInvitations(tx: Tx, now: string, where: SQL | undefined) {
  const { professionalInvitations, professionals, agencies } = tx.t;
  return tx.db
    .select({ invitation: professionalInvitations, professional: professionals })
    .from(professionalInvitations)
    .innerJoin(professionals, eq(professionals.id, professionalInvitations.professionalId))
    .innerJoin(agencies, eq(agencies.id, professionals.agencyId))
    .where(
      and(
        where,
        isNull(professionalInvitations.usedAt),
        sql`${professionalInvitations.expiresAt} > ${now}`,
        ne(professionals.status, 'disabled'),
        eq(agencies.status, 'active'),
      ),
    );
}

/** An unused, unexpired invitation with its professional (active or invited, in an active agency). */
export async function openInvitation(tx: Tx, tokenHash: string, now: string): Promise<{ invitation: InvitationRow; professional: ProfessionalRow } | undefined> {
  return first(tx, openInvitations(tx, now, eq(tx.t.professionalInvitations.tokenHash, tokenHash)));
}

/** The professional of the agency whose open invitation was sent to this e-mail address (lower-cased by the caller). */
export async function invitedByEmail(tx: Tx, agencyId: string, email: string, now: string): Promise<{ invitation: InvitationRow; professional: ProfessionalRow } | undefined> {
  const { professionals, professionalInvitations } = tx.t;
  const where = and(eq(professionals.agencyId, agencyId), sql`lower(${professionals.email}) = ${email}`);
  return first(tx, openInvitations(tx, now, where).orderBy(asc(professionalInvitations.createdAt)).limit(1));
}

/** Uses up an invitation; false when it was used meanwhile. */
export async function useInvitation(tx: Tx, tokenHash: string, at: string): Promise<boolean> {
  const { professionalInvitations } = tx.t;
  return (
    (await exec(tx, tx.db.update(professionalInvitations).set({ usedAt: at }).where(and(eq(professionalInvitations.tokenHash, tokenHash), isNull(professionalInvitations.usedAt))))) === 1
  );
}

/** An invited professional becomes active (enrolment, or a first sign-in through their provider). */
export async function activateProfessional(tx: Tx, id: string): Promise<void> {
  const { professionals } = tx.t;
  await exec(tx, tx.db.update(professionals).set({ status: 'active' }).where(and(eq(professionals.id, id), eq(professionals.status, 'invited'))));
}

/** Links the professional to their OpenID provider's subject. */
export async function linkOidcSubject(tx: Tx, id: string, issuer: string, subject: string): Promise<void> {
  const { professionals } = tx.t;
  await exec(tx, tx.db.update(professionals).set({ oidcIssuer: issuer, oidcSubject: subject }).where(eq(professionals.id, id)));
}

export async function setProfessionalRoles(tx: Tx, id: string, roles: string[]): Promise<void> {
  const { professionals } = tx.t;
  await exec(tx, tx.db.update(professionals).set({ roles }).where(eq(professionals.id, id)));
}

/** Disables a professional and ends every session of theirs; enabling restores their sign-in. */
export async function setProfessionalStatus(tx: Tx, id: string, status: 'active' | 'disabled', at: string): Promise<void> {
  const { professionals, consoleSessions } = tx.t;
  await exec(tx, tx.db.update(professionals).set({ status }).where(eq(professionals.id, id)));
  if (status === 'disabled') {
    await exec(tx, tx.db.update(consoleSessions).set({ revokedAt: at }).where(and(eq(consoleSessions.professionalId, id), isNull(consoleSessions.revokedAt))));
  }
}

export async function passkeyById(tx: Tx, id: string): Promise<PasskeyRow | undefined> {
  const { passkeys } = tx.t;
  return first(tx, tx.db.select().from(passkeys).where(eq(passkeys.id, id)));
}

export async function passkeysOf(tx: Tx, professionalId: string): Promise<PasskeyRow[]> {
  const { passkeys } = tx.t;
  return many(tx, tx.db.select().from(passkeys).where(eq(passkeys.professionalId, professionalId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id)));
}

export async function insertPasskey(tx: Tx, row: NewPasskeyRow): Promise<void> {
  await exec(tx, tx.db.insert(tx.t.passkeys).values(row));
}

/** Removes one of the professional's passkeys, never the last one. */
export async function removePasskey(tx: Tx, professionalId: string, id: string): Promise<'removed' | 'last' | 'missing'> {
  const { passkeys } = tx.t;
  const held = await many(tx, tx.db.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.professionalId, professionalId)));
  if (!held.some((p) => p.id === id)) return 'missing';
  if (held.length === 1) return 'last';
  await exec(tx, tx.db.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.professionalId, professionalId))));
  return 'removed';
}

export async function recordPasskeyUse(tx: Tx, id: string, counter: number, at: string): Promise<void> {
  const { passkeys } = tx.t;
  await exec(tx, tx.db.update(passkeys).set({ counter, lastUsedAt: at }).where(eq(passkeys.id, id)));
}

/** The districts that active WIJ teams and municipalities serve, by municipality (what a registration may name). */
export async function servedDistricts(tx: Tx): Promise<Map<string, string[]>> {
  const { agencies } = tx.t;
  const rows = await many(
    tx,
    tx.db
      .select({ municipality: agencies.municipality, districts: agencies.districts })
      .from(agencies)
      .where(and(eq(agencies.status, 'active'), inArray(agencies.type, ['wij', 'municipality']))),
  );
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = out.get(r.municipality) ?? new Set<string>();
    for (const d of r.districts) set.add(d);
    out.set(r.municipality, set);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)).map(([m, s]) => [m, [...s].sort()]));
}
