import { type AgencyActor, agencyActor } from '../app/context.ts';
import { allowedScopes } from '../policy/grants.ts';
import type { AgencyType, Policy, Scope } from '../policy/types.ts';

/** What a professional may do in the console: the roles an agency administrator hands out. */
export const ROLES = ['registrant', 'coordinator', 'privacy_officer', 'statistics', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The scopes each role asks for. A professional acts with the scopes of their roles that the
 * policy grants the agency's type (and the agency's own grants), never more: a school's
 * coordinator gets no `matches:coordinate`, since the policy gives schools none.
 */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  registrant: ['signals:write', 'signals:read', 'notices:read'],
  coordinator: ['matches:coordinate', 'signals:read', 'notices:read'],
  privacy_officer: ['subjects:rights', 'audit:read'],
  statistics: ['stats:read'],
  // The agency administrator manages the agency's professionals (a console right, no API scope);
  // `admin` reaches only the operator's administrators, whose type the policy grants it.
  admin: ['admin'],
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The actor of a signed-in professional: their agency, themselves, and their roles' scopes within the policy's. */
export function professionalActor(
  policy: Policy,
  agency: { id: string; type: string; grants: readonly string[] },
  professional: { id: string; roles: readonly string[] },
): AgencyActor {
  const allowed = new Set<Scope>(allowedScopes(policy, agency.type as AgencyType, agency.grants));
  const wanted = professional.roles.filter(isRole).flatMap((r) => ROLE_SCOPES[r]);
  return agencyActor({
    agencyId: agency.id,
    agencyType: agency.type as AgencyType,
    scopes: new Set(wanted.filter((s) => allowed.has(s))),
    professional: professional.id,
  });
}
