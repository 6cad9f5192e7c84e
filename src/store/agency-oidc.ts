import { asc, eq } from 'drizzle-orm';
import type { agencyOidc } from '../../schema/tables.ts';
import { exec, first, many, type Tx } from './db.ts';

/** Agencies' own OpenID providers (one per agency). */

export type AgencyOidcRow = typeof agencyOidc.$inferSelect;

/** The agency's OpenID provider, or undefined when it has none. */
export async function agencyOidcById(tx: Tx, agencyId: string): Promise<AgencyOidcRow | undefined> {
  const { agencyOidc } = tx.t;
  return first(tx, tx.db.select().from(agencyOidc).where(eq(agencyOidc.agencyId, agencyId)));
}

/** Active agencies with their own OpenID provider, by name: where the console's sign-in page offers it. */
export async function agenciesWithOidc(tx: Tx): Promise<Array<{ id: string; name: string }>> {
  const { agencyOidc, agencies } = tx.t;
  return many(
    tx,
    tx.db
      .select({ id: agencies.id, name: agencies.name })
      .from(agencyOidc)
      .innerJoin(agencies, eq(agencies.id, agencyOidc.agencyId))
      .where(eq(agencies.status, 'active'))
      .orderBy(asc(agencies.name), asc(agencies.id)),
  );
}

/** Sets the agency's provider, replacing one set before (its created_at becomes the new time). */
export async function putAgencyOidc(tx: Tx, row: AgencyOidcRow): Promise<void> {
  const { agencyOidc } = tx.t;
  await exec(
    tx,
    tx.db
      .insert(agencyOidc)
      .values(row)
      .onConflictDoUpdate({ target: agencyOidc.agencyId, set: { issuer: row.issuer, clientId: row.clientId, createdAt: row.createdAt } }),
  );
}

/** Removes the agency's provider; false when it had none. */
export async function deleteAgencyOidc(tx: Tx, agencyId: string): Promise<boolean> {
  const { agencyOidc } = tx.t;
  return (await exec(tx, tx.db.delete(agencyOidc).where(eq(agencyOidc.agencyId, agencyId)))) > 0;
}
