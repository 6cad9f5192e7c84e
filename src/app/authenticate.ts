import { accessTokenVerifier, TokenError } from '../crypto/tokens.ts';
import { allowedScopes } from '../policy/grants.ts';
import type { AgencyType, Scope } from '../policy/types.ts';
import { activeAgencyWithUnrevokedKey } from '../store/agencies.ts';
import { type AgencyActor, agencyActor, type Deps } from './context.ts';
import { invalid, unauthenticated } from './errors.ts';

/**
 * The acting professional is named by an opaque reference the agency keeps (`prf_` and 8–64 of
 * a–z, 0–9, `_`, `-`), never by a name, an e-mail address or a number: the audit log is
 * append-only, so whatever lands there stays. A run of eight or more digits, also when split by
 * `-` or `_`, is refused because it could be a BSN (nine digits, or eight without a leading zero).
 */
export const ACTING_PROFESSIONAL_PATTERN = '^prf_(?![a-z0-9_-]*(?:[0-9][_-]*){8})[a-z0-9_-]{8,64}$';
const PROFESSIONAL = new RegExp(ACTING_PROFESSIONAL_PATTERN);

/** The acting professional of a request, or a refusal that neither echoes nor keeps the value. */
export function actingProfessional(header: string | undefined): string | null {
  if (header === undefined || header === '') return null;
  if (!PROFESSIONAL.test(header)) {
    throw invalid('invalid_acting_professional', 'X-Acting-Professional must be an opaque reference: prf_ followed by 8 to 64 of a-z 0-9 _ - (no run of 8 digits)');
  }
  return header;
}

/**
 * Builds the authenticator for bearer tokens. A token of a disabled agency, or one earned with a
 * key that has since been revoked, stops working at once; a scope the policy no longer grants is
 * dropped.
 */
export function createAuthenticator(deps: Deps) {
  const verify = accessTokenVerifier(deps.keys, deps.issuer);
  return async (authorization: string | undefined, professionalHeader: string | undefined): Promise<AgencyActor> => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
    if (!match) throw unauthenticated('unauthorized', 'a bearer access token is required');
    let claims;
    try {
      claims = await verify(match[1]!, deps.clock.now());
    } catch (err) {
      if (err instanceof TokenError) throw unauthenticated('invalid_token', 'the access token is invalid or expired');
      throw err;
    }
    // The agency must be active and the key that earned the token not revoked since.
    const agency = await activeAgencyWithUnrevokedKey(deps.store.reader, claims.agencyId, claims.agencyKid);
    if (!agency) throw unauthenticated('invalid_token', 'the access token is invalid or expired');
    const allowed = new Set<string>(allowedScopes(deps.policy, agency.type as AgencyType, agency.grants));
    const professional = actingProfessional(professionalHeader);
    return agencyActor({
      agencyId: claims.agencyId,
      agencyType: agency.type as AgencyType,
      scopes: new Set(claims.scopes.filter((s) => allowed.has(s)) as Scope[]),
      professional,
    });
  };
}
