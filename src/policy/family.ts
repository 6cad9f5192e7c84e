import { type AgencyType, familyTypes, type PolicyDocument } from './types.ts';

/**
 * The parties of a family match among a family's signals (newest first): the agencies of the types
 * the policy lets take part that are involved with a different child of the family than another
 * agency is — two signals of different agencies for different children — each by its newest signal.
 * Empty when there is no family match. The index and the family's access answer both use this.
 */
export function familyParties<T>(
  policy: PolicyDocument,
  latestFirst: readonly T[],
  of: (row: T) => { agencyId: string; subjectId: string; type: AgencyType },
): T[] {
  const types = familyTypes(policy);
  const taking = latestFirst.filter((r) => types.has(of(r).type));
  const children = new Map<string, Set<string>>();
  for (const r of taking) {
    const { agencyId, subjectId } = of(r);
    let own = children.get(agencyId);
    if (!own) children.set(agencyId, (own = new Set()));
    own.add(subjectId);
  }
  const qualifies = (agencyId: string) => {
    const own = children.get(agencyId)!;
    for (const [other, theirs] of children) if (other !== agencyId && new Set([...own, ...theirs]).size >= 2) return true;
    return false;
  };
  const seen = new Set<string>();
  return taking.filter((r) => {
    const { agencyId } = of(r);
    if (seen.has(agencyId) || !qualifies(agencyId)) return false;
    seen.add(agencyId);
    return true;
  });
}
