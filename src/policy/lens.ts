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

interface Lenses {
  party: ReadonlyMap<AgencyType, Lens>;
  coordinator: Lens;
  all: Lens[];
  /** Types that some viewer may not see. */
  shielded: ReadonlySet<AgencyType>;
}

/** A policy's lenses, worked out once per loaded policy (they are asked for on every notice). */
const cache = new WeakMap<Policy, Lenses>();
function lensesFor(policy: Policy): Lenses {
  let known = cache.get(policy);
  if (!known) {
    const party = new Map(AGENCY_TYPES.map((t) => [t, lensKey(hiddenTypes((policy.disclosure.viewers[t] ?? policy.disclosure.default).see))]));
    const coordinator = lensKey(hiddenTypes(policy.disclosure.coordinator.see));
    const all = [...new Set<Lens>([FULL_LENS, coordinator, ...party.values()])].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
    const shielded = new Set(all.flatMap((l) => (l ? (l.split(',') as AgencyType[]) : [])));
    cache.set(policy, (known = { party, coordinator, all, shielded }));
  }
  return known;
}

/** The lens of a party of this type: the types its viewer rules hide. */
export function partyLens(policy: Policy, type: AgencyType): Lens {
  return lensesFor(policy).party.get(type)!;
}

/** The lens the coordinator (and a municipality a match was escalated to) looks through. */
export function coordinatorLens(policy: Policy): Lens {
  return lensesFor(policy).coordinator;
}

/** Every lens the policy gives a viewer, the full one first. */
export function lensesOf(policy: Policy): Lens[] {
  return lensesFor(policy).all;
}

/** Whether a party of this type is seen through the lens. */
export function letsThrough(lens: Lens, type: AgencyType): boolean {
  return lens === FULL_LENS || !lens.split(',').includes(type);
}

/**
 * Where a young person lives, from signals newest first: the municipality of the latest, and the
 * latest district named there, counting only the parties every viewer sees (where there are any).
 * A party of a type some viewer may not see never moves a match, so no one's coordinator changes
 * because of a party hidden from them.
 */
export function locate(
  policy: Policy,
  latestFirst: ReadonlyArray<{ type: AgencyType; municipality: string; district: () => string | null }>,
): { municipality: string; district: string | null } {
  const { shielded } = lensesFor(policy);
  const seenByAll = latestFirst.filter((s) => !shielded.has(s.type));
  const rows = seenByAll.length > 0 ? seenByAll : latestFirst;
  const municipality = rows[0]!.municipality;
  for (const s of rows) {
    const district = s.municipality === municipality ? s.district() : null;
    if (district) return { municipality, district };
  }
  return { municipality, district: null };
}
