import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { agencies, agencyKeys, matches, signals } from '../../schema/tables.ts';
import { type Db, preparedQuery, type Tx } from './db.ts';

/** Agencies and their public keys: who may sign in, with which keys, and where notices go. */

export type AgencyRow = typeof agencies.$inferSelect;
export type NewAgencyRow = typeof agencies.$inferInsert;
export type NewAgencyKeyRow = typeof agencyKeys.$inferInsert;
export type AgencyStatus = AgencyRow['status'];
export type MatchStatus = (typeof matches.$inferSelect)['status'];

export function agencyById(tx: Tx | Db, id: string): AgencyRow | undefined {
  return tx.select().from(agencies).where(eq(agencies.id, id)).get();
}

/** Every key the agency ever registered, revoked or not, oldest first (without the JWK). */
export function keysOfAgency(tx: Tx | Db, agencyId: string): Array<{ kid: string; alg: string; createdAt: string; revokedAt: string | null }> {
  return tx
    .select({ kid: agencyKeys.id, alg: agencyKeys.alg, createdAt: agencyKeys.createdAt, revokedAt: agencyKeys.revokedAt })
    .from(agencyKeys)
    .where(eq(agencyKeys.agencyId, agencyId))
    .orderBy(asc(agencyKeys.createdAt))
    .all();
}

export function insertAgency(tx: Tx, row: NewAgencyRow): void {
  tx.insert(agencies).values(row).run();
}

/** Whether a key of this id is registered, to any agency. */
export function agencyKeyRegistered(tx: Tx, kid: string): boolean {
  return tx.select({ id: agencyKeys.id }).from(agencyKeys).where(eq(agencyKeys.id, kid)).get() !== undefined;
}

export function insertAgencyKey(tx: Tx, row: NewAgencyKeyRow): void {
  tx.insert(agencyKeys).values(row).run();
}

/** One key of the agency (its revocation time), or undefined when the agency has no such key. */
export function agencyKey(tx: Tx, agencyId: string, kid: string): { revokedAt: string | null } | undefined {
  return tx.select({ revokedAt: agencyKeys.revokedAt }).from(agencyKeys).where(and(eq(agencyKeys.id, kid), eq(agencyKeys.agencyId, agencyId))).get();
}

export function revokeAgencyKeyAt(tx: Tx, kid: string, revokedAt: string): void {
  tx.update(agencyKeys).set({ revokedAt }).where(eq(agencyKeys.id, kid)).run();
}

export function setAgencyStatusTo(tx: Tx, agencyId: string, status: AgencyStatus): void {
  tx.update(agencies).set({ status }).where(eq(agencies.id, agencyId)).run();
}

/** Sets (or with nulls removes) the webhook URL and its sealed `v1` secret. */
export function setAgencyWebhookTo(tx: Tx, agencyId: string, webhookUrl: string | null, webhookSecret: Buffer | null): void {
  tx.update(agencies).set({ webhookUrl, webhookSecret }).where(eq(agencies.id, agencyId)).run();
}

/** Every agency's id, in order. */
export function agencyIds(db: Db | Tx): string[] {
  return db
    .select({ id: agencies.id })
    .from(agencies)
    .orderBy(asc(agencies.id))
    .all()
    .map((r) => r.id);
}

/** Whether an agency of that id is registered, active or not. */
export function agencyExists(db: Db | Tx, agencyId: string): boolean {
  return db.select({ id: agencies.id }).from(agencies).where(eq(agencies.id, agencyId)).get() !== undefined;
}

export function activeAgencyById(db: Db | Tx, agencyId: string): AgencyRow | undefined {
  return db.select().from(agencies).where(and(eq(agencies.id, agencyId), eq(agencies.status, 'active'))).get();
}

/** The agency's keys that are not revoked, with their JWKs, to verify a client assertion. */
export function usableKeysOfAgency(db: Db | Tx, agencyId: string): Array<{ kid: string; alg: 'EdDSA' | 'ES256'; jwk: Record<string, unknown> }> {
  return db
    .select({ kid: agencyKeys.id, alg: agencyKeys.alg, jwk: agencyKeys.jwk })
    .from(agencyKeys)
    .where(and(eq(agencyKeys.agencyId, agencyId), isNull(agencyKeys.revokedAt)))
    .all();
}

// The agency must be active and the key that earned the token not revoked since.
const activeAgencyWithKey = preparedQuery((db) =>
  db
    .select({ type: agencies.type, grants: agencies.grants })
    .from(agencies)
    .innerJoin(agencyKeys, and(eq(agencyKeys.agencyId, agencies.id), eq(agencyKeys.id, sql.placeholder('kid')), isNull(agencyKeys.revokedAt)))
    .where(and(eq(agencies.id, sql.placeholder('id')), eq(agencies.status, 'active')))
    .prepare(),
);

/**
 * The type and grants of an active agency whose key `kid` is not revoked (the key a bearer token
 * was earned with); undefined otherwise. On the path of every authenticated request.
 */
export function activeAgencyWithUnrevokedKey(db: Db | Tx, agencyId: string, kid: string): { type: string; grants: string[] } | undefined {
  return activeAgencyWithKey(db).get({ id: agencyId, kid });
}

/** The subjects the agency has an active signal for. */
export function subjectsWithActiveSignalOf(tx: Tx, agencyId: string): string[] {
  return tx
    .selectDistinct({ id: signals.subjectId })
    .from(signals)
    .where(and(eq(signals.agencyId, agencyId), eq(signals.status, 'active')))
    .all()
    .map((r) => r.id);
}

/**
 * The subjects of the matches in one of `statuses` that the agency coordinates or was escalated
 * to, and with `municipality` also every such match in that municipality.
 */
export function subjectsOfMatchesRoutedTo(
  tx: Tx,
  route: { agencyId: string; municipality?: string },
  statuses: readonly MatchStatus[],
): string[] {
  const routedToAgency = [eq(matches.coordinatorId, route.agencyId), eq(matches.escalatedTo, route.agencyId)];
  const routed = route.municipality !== undefined ? or(eq(matches.municipality, route.municipality), ...routedToAgency) : or(...routedToAgency);
  return tx
    .select({ id: matches.subjectId })
    .from(matches)
    .where(and(inArray(matches.status, [...statuses]), routed))
    .all()
    .map((r) => r.id);
}
