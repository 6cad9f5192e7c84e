import { agencies } from '../../schema/tables.ts';
import type { Db } from './db.ts';
import { readMeta, writeMeta } from './meta.ts';

const TYPE_SCOPES = 'policy_type_scopes';

/** Every agency that is not disabled, with its type. */
export function activeAgencyTypes(db: Db): Array<{ id: string; name: string; type: string; status: string }> {
  return db
    .select({ id: agencies.id, name: agencies.name, type: agencies.type, status: agencies.status })
    .from(agencies)
    .all()
    .filter((a) => a.status !== 'disabled');
}

/** The scopes each agency type had under the policy the service last started with. */
export function readTypeScopes(db: Db): Record<string, string[]> {
  const raw = readMeta(db, TYPE_SCOPES);
  return raw ? (JSON.parse(raw) as Record<string, string[]>) : {};
}

export function writeTypeScopes(db: Db, scopes: Record<string, string[]>): void {
  writeMeta(db, TYPE_SCOPES, JSON.stringify(scopes));
}
