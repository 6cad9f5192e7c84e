import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { agencies, agencyKeys, matches } from '../../schema/tables.ts';
import { exec, first, many, preparedQuery, type Tx } from './db.ts';

/** Agencies and their public keys: who may sign in, with which keys, and where notices go. */

export type AgencyRow = typeof agencies.$inferSelect;
export type NewAgencyRow = typeof agencies.$inferInsert;
export type NewAgencyKeyRow = typeof agencyKeys.$inferInsert;
export type AgencyStatus = AgencyRow['status'];
export type MatchStatus = (typeof matches.$inferSelect)['status'];

export async function agencyById(tx: Tx, id: string): Promise<AgencyRow | undefined> {
  const { agencies } = tx.t;
  return first(tx, tx.db.select().from(agencies).where(eq(agencies.id, id)));
}

/** Every key the agency ever registered, revoked or not, oldest first (without the JWK). */
export async function keysOfAgency(tx: Tx, agencyId: string): Promise<Array<{ kid: string; alg: string; createdAt: string; revokedAt: string | null }>> {
  const { agencyKeys } = tx.t;
  return many(
    tx,
    tx.db
      .select({ kid: agencyKeys.id, alg: agencyKeys.alg, createdAt: agencyKeys.createdAt, revokedAt: agencyKeys.revokedAt })
      .from(agencyKeys)
      .where(eq(agencyKeys.agencyId, agencyId))
      .orderBy(asc(agencyKeys.createdAt)),
  );
}

export async function insertAgency(tx: Tx, row: NewAgencyRow): Promise<void> {
  await exec(tx, tx.db.insert(tx.t.agencies).values(row));
}

/** Whether a key of this id is registered, to any agency. */
export async function agencyKeyRegistered(tx: Tx, kid: string): Promise<boolean> {
  const { agencyKeys } = tx.t;
  return (await first(tx, tx.db.select({ id: agencyKeys.id }).from(agencyKeys).where(eq(agencyKeys.id, kid)))) !== undefined;
}

export async function insertAgencyKey(tx: Tx, row: NewAgencyKeyRow): Promise<void> {
  await exec(tx, tx.db.insert(tx.t.agencyKeys).values(row));
}

/** One key of the agency (its revocation time), or undefined when the agency has no such key. */
export async function agencyKey(tx: Tx, agencyId: string, kid: string): Promise<{ revokedAt: string | null } | undefined> {
  const { agencyKeys } = tx.t;
  return first(tx, tx.db.select({ revokedAt: agencyKeys.revokedAt }).from(agencyKeys).where(and(eq(agencyKeys.id, kid), eq(agencyKeys.agencyId, agencyId))));
}

export async function revokeAgencyKeyAt(tx: Tx, kid: string, revokedAt: string): Promise<void> {
  await exec(tx, tx.db.update(tx.t.agencyKeys).set({ revokedAt }).where(eq(tx.t.agencyKeys.id, kid)));
}

export async function setAgencyStatusTo(tx: Tx, agencyId: string, status: AgencyStatus): Promise<void> {
  await exec(tx, tx.db.update(tx.t.agencies).set({ status }).where(eq(tx.t.agencies.id, agencyId)));
}

/** Sets (or with nulls removes) the webhook URL and its sealed `v1` secret. */
export async function setAgencyWebhookTo(tx: Tx, agencyId: string, webhookUrl: string | null, webhookSecret: Buffer | null): Promise<void> {
  await exec(tx, tx.db.update(tx.t.agencies).set({ webhookUrl, webhookSecret }).where(eq(tx.t.agencies.id, agencyId)));
}

/** Every agency's id, in order. */
export async function agencyIds(tx: Tx): Promise<string[]> {
  const { agencies } = tx.t;
  return (await many(tx, tx.db.select({ id: agencies.id }).from(agencies).orderBy(asc(agencies.id)))).map((r) => r.id);
}

/** Whether an agency of that id is registered, active or not. */
export async function agencyExists(tx: Tx, agencyId: string): Promise<boolean> {
  const { agencies } = tx.t;
  return (await first(tx, tx.db.select({ id: agencies.id }).from(agencies).where(eq(agencies.id, agencyId)))) !== undefined;
}

export async function activeAgencyById(tx: Tx, agencyId: string): Promise<AgencyRow | undefined> {
  const { agencies } = tx.t;
  return first(tx, tx.db.select().from(agencies).where(and(eq(agencies.id, agencyId), eq(agencies.status, 'active'))));
}

/** The agency's keys that are not revoked, with their JWKs, to verify a client assertion. */
export async function usableKeysOfAgency(tx: Tx, agencyId: string): Promise<Array<{ kid: string; alg: 'EdDSA' | 'ES256'; jwk: Record<string, unknown> }>> {
  const { agencyKeys } = tx.t;
  return many(
    tx,
    tx.db
      .select({ kid: agencyKeys.id, alg: agencyKeys.alg, jwk: agencyKeys.jwk })
      .from(agencyKeys)
      .where(and(eq(agencyKeys.agencyId, agencyId), isNull(agencyKeys.revokedAt))),
  );
}

// The agency must be active and the key that earned the token not revoked since.
const activeAgencyWithKey = preparedQuery(({ db, t: { agencies, agencyKeys } }) =>
  db
    .select({ type: agencies.type, grants: agencies.grants })
    .from(agencies)
    .innerJoin(agencyKeys, and(eq(agencyKeys.agencyId, agencies.id), eq(agencyKeys.id, sql.placeholder('kid')), isNull(agencyKeys.revokedAt)))
    .where(and(eq(agencies.id, sql.placeholder('id')), eq(agencies.status, 'active'))),
);

/**
 * The type and grants of an active agency whose key `kid` is not revoked (the key a bearer token
 * was earned with); undefined otherwise. On the path of every authenticated request.
 */
export async function activeAgencyWithUnrevokedKey(tx: Tx, agencyId: string, kid: string): Promise<{ type: string; grants: string[] } | undefined> {
  return activeAgencyWithKey(tx).first({ id: agencyId, kid });
}

/** The subjects the agency has an active signal for. */
export async function subjectsWithActiveSignalOf(tx: Tx, agencyId: string): Promise<string[]> {
  const { signals } = tx.t;
  const rows = await many(
    tx,
    tx.db
      .selectDistinct({ id: signals.subjectId })
      .from(signals)
      .where(and(eq(signals.agencyId, agencyId), eq(signals.status, 'active'))),
  );
  return rows.map((r) => r.id);
}

/**
 * The subjects of the matches in one of `statuses` that the agency coordinates or was escalated
 * to, and with `municipality` also every such match in that municipality.
 */
export async function subjectsOfMatchesRoutedTo(
  tx: Tx,
  route: { agencyId: string; municipality?: string },
  statuses: readonly MatchStatus[],
): Promise<string[]> {
  const { matches } = tx.t;
  const routedToAgency = [eq(matches.coordinatorId, route.agencyId), eq(matches.escalatedTo, route.agencyId)];
  const routed = route.municipality !== undefined ? or(eq(matches.municipality, route.municipality), ...routedToAgency) : or(...routedToAgency);
  const rows = await many(tx, tx.db.select({ id: matches.subjectId }).from(matches).where(and(inArray(matches.status, [...statuses]), routed)));
  return rows.map((r) => r.id);
}
