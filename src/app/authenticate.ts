import { and, eq, sql } from 'drizzle-orm';
import { agencies } from '../../schema/tables.ts';
import { accessTokenVerifier, TokenError } from '../crypto/tokens.ts';
import { allowedScopes } from '../policy/grants.ts';
import { preparedQuery } from '../store/db.ts';
import type { AgencyType, Scope } from '../policy/types.ts';
import type { Actor, Deps } from './context.ts';
import { invalid, unauthenticated } from './errors.ts';

const PROFESSIONAL = /^[\p{L}\p{N} .,'@_()-]{1,120}$/u;

const activeAgency = preparedQuery((db) =>
  db
    .select({ type: agencies.type, grants: agencies.grants })
    .from(agencies)
    .where(and(eq(agencies.id, sql.placeholder('id')), eq(agencies.status, 'active')))
    .prepare(),
);

/**
 * Builds the authenticator for bearer tokens. A token of a disabled agency stops working at once,
 * and a scope the policy no longer grants is dropped.
 */
export function createAuthenticator(deps: Deps) {
  const verify = accessTokenVerifier(deps.keys, deps.issuer);
  return async (authorization: string | undefined, actingProfessional: string | undefined): Promise<Actor> => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
    if (!match) throw unauthenticated('unauthorized', 'a bearer access token is required');
    let claims;
    try {
      claims = await verify(match[1]!, deps.clock.now());
    } catch (err) {
      if (err instanceof TokenError) throw unauthenticated('invalid_token', 'the access token is invalid or expired');
      throw err;
    }
    const agency = activeAgency(deps.db).get({ id: claims.agencyId });
    if (!agency) throw unauthenticated('invalid_token', 'the access token is invalid or expired');
    const allowed = new Set<string>(allowedScopes(deps.policy, agency.type as AgencyType, agency.grants));
    const professional = actingProfessional?.trim();
    if (professional !== undefined && professional !== '' && !PROFESSIONAL.test(professional)) {
      throw invalid('validation_failed', 'X-Acting-Professional must be a name or identifier of at most 120 characters');
    }
    return {
      agencyId: claims.agencyId,
      agencyType: agency.type as AgencyType,
      scopes: new Set(claims.scopes.filter((s) => allowed.has(s)) as Scope[]),
      professional: professional || null,
    };
  };
}
