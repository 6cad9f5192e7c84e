import type { AgencyType, Policy, Scope, SignalKind } from './types.ts';

/** The scopes an agency may hold: those its type gets from the policy, plus its own grants. */
export function allowedScopes(policy: Policy, type: AgencyType, grants: readonly string[]): Scope[] {
  const fromType = policy.agencyTypes[type]?.scopes ?? [];
  return [...new Set<Scope>([...fromType, ...(grants as Scope[])])];
}

/** Rule 3: the kinds of signal an agency type may register (empty: it may not register). */
export function registrableKinds(policy: Policy, type: AgencyType): readonly SignalKind[] {
  return policy.agencyTypes[type]?.register ?? [];
}
