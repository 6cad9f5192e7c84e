import { signAccessToken, TokenError, verifyClientAssertion, ACCESS_TOKEN_TTL_S } from '../crypto/tokens.ts';
import { allowedScopes } from '../policy/grants.ts';
import { agencyExists } from '../store/agencies.ts';
import { appendAudit } from '../store/audit.ts';
import { forgetExpiredAssertions, markAssertionUsed } from '../store/used-assertions.ts';
import { findActiveAgencyWithKeys } from './agencies.ts';
import { type Deps, withTransaction } from './context.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * An OAuth 2.0 error (RFC 6749 §5.2); `description` is safe to show. `reason` says why, for the
 * operator's log and the audit record only: a client learns no more than the bare error.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type',
    readonly description: string,
    readonly reason: string = error,
    /** More for the log (it may quote the caller's input; the log masks what could be a BSN). */
    readonly detail?: string,
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

const CLIENT_FAILED = 'client authentication failed';

/**
 * Client credentials with private_key_jwt (RFC 7523): one token per fresh, signed assertion.
 * A refusal is logged with its reason and audited as a failed `token.issue` before it is thrown.
 */
export async function issueToken(deps: Deps, req: TokenRequest, requestId: string | null): Promise<TokenResponse> {
  try {
    return await grant(deps, req, requestId);
  } catch (err) {
    if (err instanceof OAuthError) await refuseSignIn(deps, err, req, requestId);
    throw err;
  }
}

/**
 * Records a refused token request: the log gets the reason and the claimed client id, the audit
 * log a failed `token.issue`. The claimed id goes into the append-only audit log only when it
 * names a registered agency: any other string (a typo, a probe, a number that could be a BSN)
 * comes from an unauthenticated caller and must not stay there forever.
 */
export async function refuseSignIn(deps: Deps, err: OAuthError, req: TokenRequest, requestId: string | null): Promise<void> {
  const claimed = (req.client_assertion && unverifiedIssuer(req.client_assertion)) || req.client_id || null;
  const known = claimed !== null && (await agencyExists(deps.store.reader, claimed));
  deps.logger.warn({ requestId, clientId: claimed?.slice(0, 100) ?? null, knownClient: known, error: err.error, reason: err.reason, detail: err.detail }, 'token request refused');
  await withTransaction(deps, async (tx) => {
    await appendAudit(tx, {
      at: deps.clock.now().toISOString(),
      agencyId: known ? claimed : null,
      actor: null,
      action: 'token.issue',
      subject: null,
      resource: null,
      outcome: `refused: ${known || claimed === null ? err.reason : 'unknown_client'}`,
      requestId,
    });
  });
}

async function grant(deps: Deps, req: TokenRequest, requestId: string | null): Promise<TokenResponse> {
  if (req.grant_type !== 'client_credentials') {
    throw new OAuthError(req.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
  }
  if (req.client_assertion_type !== ASSERTION_TYPE || !req.client_assertion) {
    throw new OAuthError('invalid_request', `client_assertion with client_assertion_type ${ASSERTION_TYPE} is required`, 'no_client_assertion');
  }
  const agencyId = unverifiedIssuer(req.client_assertion);
  if (!agencyId) throw new OAuthError('invalid_client', CLIENT_FAILED, 'assertion_without_issuer');
  if (req.client_id && req.client_id !== agencyId) throw new OAuthError('invalid_client', CLIENT_FAILED, 'client_id_differs_from_issuer');
  const found = await findActiveAgencyWithKeys(deps.store.reader, agencyId);
  if (!found) throw new OAuthError('invalid_client', CLIENT_FAILED, (await agencyExists(deps.store.reader, agencyId)) ? 'agency_disabled' : 'unknown_client');

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
    throw new OAuthError('invalid_client', CLIENT_FAILED, `assertion_${err.reason}`, err.message);
  }

  const allowed = allowedScopes(deps.policy, found.agency.type, found.agency.grants);
  const requested = req.scope ? [...new Set(req.scope.split(' ').filter(Boolean))] : allowed;
  if (requested.length === 0 || requested.some((s) => !(allowed as string[]).includes(s))) {
    throw new OAuthError('invalid_scope', 'the requested scope is not granted to this agency', 'scope_not_granted');
  }

  await withTransaction(deps, async (tx) => {
    await forgetExpiredAssertions(tx, now.toISOString());
    const fresh = await markAssertionUsed(tx, { agencyId, jti: verified.jti, expiresAt: new Date((verified.exp + 60) * 1000).toISOString() });
    if (!fresh) throw new OAuthError('invalid_client', 'client assertion was already used', 'assertion_replayed');
    await appendAudit(tx, { at: now.toISOString(), agencyId, actor: null, action: 'token.issue', subject: null, resource: null, outcome: 'ok', requestId });
  });
  const accessToken = await signAccessToken(deps.keys, deps.issuer, { agencyId, scopes: requested, agencyKid: verified.kid }, now);
  return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S, scope: requested.join(' ') };
}
