import { eq } from 'drizzle-orm';
import { agencyOidc } from '../../schema/tables.ts';
import type { Db, Tx } from './db.ts';

/**
 * Agencies' own OpenID providers (one per agency). Async, so that callers are written as they
 * will be for PostgreSQL; on SQLite each function settles at once.
 */

export type AgencyOidcRow = typeof agencyOidc.$inferSelect;

/** The agency's OpenID provider, or undefined when it has none. */
export async function agencyOidcById(db: Db | Tx, agencyId: string): Promise<AgencyOidcRow | undefined> {
  return db.select().from(agencyOidc).where(eq(agencyOidc.agencyId, agencyId)).get();
}

/** Sets the agency's provider, replacing one set before (its created_at becomes the new time). */
export async function putAgencyOidc(db: Db | Tx, row: AgencyOidcRow): Promise<void> {
  db.insert(agencyOidc)
    .values(row)
    .onConflictDoUpdate({ target: agencyOidc.agencyId, set: { issuer: row.issuer, clientId: row.clientId, createdAt: row.createdAt } })
    .run();
}

/** Removes the agency's provider; false when it had none. */
export async function deleteAgencyOidc(db: Db | Tx, agencyId: string): Promise<boolean> {
  return db.delete(agencyOidc).where(eq(agencyOidc.agencyId, agencyId)).run().changes > 0;
}
