import { AGENCY_TYPES, type AgencyType, type Policy, type View } from './types.ts';

/**
 * A lens is the set of party types a viewer may not see, written as a key ('' sees everything).
 *
 * Non-interference (DESIGN): what a party observes must be what it would observe had the parties
 * hidden from it never acted. The index therefore keeps, per subject, one line of matches for each
 * lens in the policy, each worked out from the signals of the types that lens lets through, and a
 * recipient hears only from the line of its own lens. The line of lens '' is the match the
 * coordinator works on; the others exist so that what a school is told is exactly what it would be
 * told in a world without Veilig Thuis.
 */
export type Lens = string;

export const FULL_LENS: Lens = '';

function hiddenTypes(see: Partial<Record<string, View>>): AgencyType[] {
  return AGENCY_TYPES.filter((t) => (see[t] ?? see['*']) === 'hidden');
}

const lensKey = (types: readonly AgencyType[]): Lens => [...types].sort().join(',');

/** The lens of a party of this type: the types its viewer rules hide. */
export function partyLens(policy: Policy, type: AgencyType): Lens {
  return lensKey(hiddenTypes((policy.disclosure.viewers[type] ?? policy.disclosure.default).see));
}

/** The lens the coordinator (and a municipality a match was escalated to) looks through. */
export function coordinatorLens(policy: Policy): Lens {
  return lensKey(hiddenTypes(policy.disclosure.coordinator.see));
}

/** Every lens the policy gives a viewer, the full one first. */
export function lensesOf(policy: Policy): Lens[] {
  const all = new Set<Lens>([FULL_LENS, coordinatorLens(policy)]);
  for (const type of AGENCY_TYPES) all.add(partyLens(policy, type));
  return [...all].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
}

/** Whether a party of this type is seen through the lens. */
export function letsThrough(lens: Lens, type: AgencyType): boolean {
  return lens === FULL_LENS || !lens.split(',').includes(type);
}

/**
 * Types that some viewer may not see. Such a party never moves a match: where a match is located
 * (and so which WIJ team coordinates it) follows the parties every viewer sees, so that no one's
 * coordinator changes because of a party hidden from them.
 */
export function shieldedFromSomeone(policy: Policy): ReadonlySet<AgencyType> {
  return new Set(lensesOf(policy).flatMap((l) => (l ? (l.split(',') as AgencyType[]) : [])));
}
