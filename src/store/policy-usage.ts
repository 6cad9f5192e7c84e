import { many, type Tx } from './db.ts';
import { readMeta, writeMeta } from './meta.ts';

const TYPE_SCOPES = 'policy_type_scopes';

/** Every agency that is not disabled, with its type. */
export async function activeAgencyTypes(tx: Tx): Promise<Array<{ id: string; name: string; type: string; status: string }>> {
  const { agencies } = tx.t;
  const rows = await many(tx, tx.db.select({ id: agencies.id, name: agencies.name, type: agencies.type, status: agencies.status }).from(agencies));
  return rows.filter((a) => a.status !== 'disabled');
}

/** The scopes each agency type had under the policy the service last started with. */
export async function readTypeScopes(tx: Tx): Promise<Record<string, string[]>> {
  const raw = await readMeta(tx, TYPE_SCOPES);
  return raw ? (JSON.parse(raw) as Record<string, string[]>) : {};
}

export async function writeTypeScopes(tx: Tx, scopes: Record<string, string[]>): Promise<void> {
  await writeMeta(tx, TYPE_SCOPES, JSON.stringify(scopes));
}
