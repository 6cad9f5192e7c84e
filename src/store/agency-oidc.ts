import { eq } from 'drizzle-orm';
import { agencyOidc } from '../../schema/tables.ts';
import { appendAudit, type AuditEntry } from './audit.ts';
import { type Db, inTransaction, type Tx } from './db.ts';

/**
 * Agencies' own OpenID providers (one per agency). Async, so that callers are written as they
 * will be for PostgreSQL; on SQLite each function settles at once.
 */

export type AgencyOidcRow = typeof agencyOidc.$inferSelect;

/** The agency's OpenID provider, or undefined when it has none. */
export async function agencyOidcById(db: Db | Tx, agencyId: string): Promise<AgencyOidcRow | undefined> {
  return db.select().from(agencyOidc).where(eq(agencyOidc.agencyId, agencyId)).get();
}

/**
 * Sets the agency's provider, replacing one set before (its created_at becomes the new time), and
 * appends `audit` in the same transaction.
 */
export async function putAgencyOidc(db: Db, row: AgencyOidcRow, audit: AuditEntry): Promise<void> {
  inTransaction(db, (tx) => {
    tx.insert(agencyOidc)
      .values(row)
      .onConflictDoUpdate({ target: agencyOidc.agencyId, set: { issuer: row.issuer, clientId: row.clientId, createdAt: row.createdAt } })
      .run();
    appendAudit(tx, audit);
  });
}

/** Removes the agency's provider, appending `audit` in the same transaction; false when it had none (nothing audited). */
export async function deleteAgencyOidc(db: Db, agencyId: string, audit: AuditEntry): Promise<boolean> {
  return inTransaction(db, (tx) => {
    const removed = tx.delete(agencyOidc).where(eq(agencyOidc.agencyId, agencyId)).run().changes > 0;
    if (removed) appendAudit(tx, audit);
    return removed;
  });
}
