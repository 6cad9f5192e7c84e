import type { Policy } from '../policy/types.ts';
import type { Tx } from '../store/db.ts';
import { activeAgencyTypes, readTypeScopes, writeTypeScopes } from '../store/policy-usage.ts';

/** An agency that a new policy leaves without its type, or without a scope its type had. */
export interface PolicyOrphan {
  id: string;
  name: string;
  type: string;
  lost: string;
}

/**
 * The agencies (not disabled) whose type the policy no longer names, or whose type lost scopes
 * it had under the policy the service last started with.
 */
export async function findPolicyOrphans(tx: Tx, policy: Policy): Promise<PolicyOrphan[]> {
  const before = await readTypeScopes(tx);
  const orphans: PolicyOrphan[] = [];
  for (const a of await activeAgencyTypes(tx)) {
    const rules = policy.agencyTypes[a.type as keyof Policy['agencyTypes']];
    if (!rules) {
      orphans.push({ ...a, lost: `type ${a.type} is not in the policy` });
      continue;
    }
    const lost = (before[a.type] ?? []).filter((s) => !(rules.scopes as string[]).includes(s));
    if (lost.length > 0) orphans.push({ ...a, lost: `type ${a.type} loses ${lost.join(', ')}` });
  }
  return orphans;
}

/** Remembers the scopes of each type under the policy now in force, for the next start to compare. */
export async function rememberPolicyScopes(tx: Tx, policy: Policy): Promise<void> {
  await writeTypeScopes(tx, Object.fromEntries(Object.entries(policy.agencyTypes).map(([type, rules]) => [type, [...rules!.scopes]])));
}

/** One line naming the orphaned agencies. */
export function describeOrphans(policy: Policy, orphans: PolicyOrphan[]): string {
  const list = orphans.map((o) => `${o.id} "${o.name}" (${o.lost})`).join(', ');
  return `policy ${policy.id}@${policy.version} drops what existing agencies use: ${list}; disable them (betrokken agency disable ID), keep the old policy, or start with --allow-orphans`;
}
