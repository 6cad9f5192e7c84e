import { lt } from 'drizzle-orm';
import { usedAssertions } from '../../schema/tables.ts';
import { signAccessToken, TokenError, verifyClientAssertion, ACCESS_TOKEN_TTL_S } from '../crypto/tokens.ts';
import { allowedScopes } from '../policy/grants.ts';
import { appendAudit } from '../store/audit.ts';
import { inTransaction } from '../store/db.ts';
import { findActiveAgencyWithKeys } from './agencies.ts';
import type { Deps } from './context.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** An OAuth 2.0 error (RFC 6749 §5.2); `description` is safe to show. */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type',
    readonly description: string,
  ) {
    super(description);
  }
}

export interface TokenRequest {
  grant_type?: string;
  client_assertion_type?: string;
  client_assertion?: string;
  client_id?: string;
  scope?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

function unverifiedIssuer(assertion: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/** Client credentials with private_key_jwt (RFC 7523): one token per fresh, signed assertion. */
export async function issueToken(deps: Deps, req: TokenRequest, requestId: string | null): Promise<TokenResponse> {
  if (req.grant_type !== 'client_credentials') {
    throw new OAuthError(req.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
  }
  if (req.client_assertion_type !== ASSERTION_TYPE || !req.client_assertion) {
    throw new OAuthError('invalid_request', `client_assertion with client_assertion_type ${ASSERTION_TYPE} is required`);
  }
  const agencyId = unverifiedIssuer(req.client_assertion);
  if (!agencyId || (req.client_id && req.client_id !== agencyId)) throw new OAuthError('invalid_client', 'client authentication failed');
  const found = findActiveAgencyWithKeys(deps.db, agencyId);
  if (!found) throw new OAuthError('invalid_client', 'client authentication failed');

  const now = deps.clock.now();
  let verified;
  try {
    verified = await verifyClientAssertion(req.client_assertion, {
      agencyId,
      keys: found.keys,
      audiences: [deps.issuer, `${deps.issuer}/oauth/token`],
      now,
    });
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    deps.logger.info({ agencyId, reason: err.message }, 'client assertion refused');
    throw new OAuthError('invalid_client', 'client authentication failed');
  }

  const allowed = allowedScopes(deps.policy, found.agency.type, found.agency.grants);
  const requested = req.scope ? [...new Set(req.scope.split(' ').filter(Boolean))] : allowed;
  if (requested.length === 0 || requested.some((s) => !(allowed as string[]).includes(s))) {
    throw new OAuthError('invalid_scope', 'the requested scope is not granted to this agency');
  }

  inTransaction(deps.db, (tx) => {
    tx.delete(usedAssertions).where(lt(usedAssertions.expiresAt, now.toISOString())).run();
    const fresh = tx
      .insert(usedAssertions)
      .values({ agencyId, jti: verified.jti, expiresAt: new Date((verified.exp + 60) * 1000).toISOString() })
      .onConflictDoNothing()
      .run();
    if (fresh.changes === 0) throw new OAuthError('invalid_client', 'client assertion was already used');
    appendAudit(tx, { at: now.toISOString(), agencyId, actor: null, action: 'token.issue', subject: null, resource: null, outcome: 'ok', requestId });
  });
  const accessToken = await signAccessToken(deps.keys, deps.issuer, { agencyId, scopes: requested, agencyKid: verified.kid }, now);
  return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S, scope: requested.join(' ') };
}
