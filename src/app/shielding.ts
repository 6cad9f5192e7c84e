import type { AgencyType, Policy } from '../policy/types.ts';
import type { Tx } from '../store/db.ts';
import { markShielded, shieldedByMarker } from '../store/shield-markers.ts';
import type { KeyRing } from '../crypto/key-ring.ts';

/**
 * Who a family's access request leaves out (DESIGN rule 7). Decided only from what survives an
 * erasure — an agency's type and the sealed shielding marker — so that an erasure never reveals
 * what an answer before it withheld.
 */

/** Exemptions from the informing duty that exist to keep someone safe (Jeugdwet art. 7.1.4.1). */
export const SAFETY_EXEMPTIONS: ReadonlySet<string> = new Set(['child_safety', 'others_safety']);

export interface Shielding {
  agencyId: string;
  /** The policy rule that shields it: a shielding rule for its type, or the informing rule. */
  rule: string;
}

/** Keeps, for good, that the agency registered with a safety exemption for this young person. */
export async function rememberExemption(
  tx: Tx,
  keys: KeyRing,
  at: { pseudonym: string; agencyId: string },
  informed: { status: string; exemption?: string | null },
): Promise<void> {
  if (informed.status === 'exempt' && informed.exemption && SAFETY_EXEMPTIONS.has(informed.exemption)) {
    await markShielded(tx, keys, at.pseudonym, at.agencyId);
  }
}

/**
 * The agencies shielded from the family, among those given: every agency of a type the policy
 * shields, always (not only while its signal is active: when in doubt, a family learns less, and
 * the privacy officer can still disclose with the audit record), and every agency marked for an
 * exemption.
 */
export async function shieldedAgencies(
  tx: Tx,
  keys: KeyRing,
  policy: Policy,
  pseudonym: string,
  agencies: ReadonlyMap<string, { type: AgencyType }>,
): Promise<Map<string, Shielding>> {
  const out = new Map<string, Shielding>();
  for (const [agencyId, { type }] of agencies) {
    const rule = policy.shielding.find((s) => s.types.includes(type));
    if (rule) out.set(agencyId, { agencyId, rule: rule.rule });
  }
  for (const agencyId of await shieldedByMarker(tx, keys, pseudonym)) {
    if (!out.has(agencyId)) out.set(agencyId, { agencyId, rule: policy.informing.rule });
  }
  return out;
}
