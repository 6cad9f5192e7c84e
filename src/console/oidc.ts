import { timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import { z } from 'zod';
import type { KeyRing } from '../crypto/key-ring.ts';
import { clientConfiguration, describeFailure, type OidcDeps, OidcError, requireAgencyOidc } from './oidc-config.ts';

export { configureAgencyOidc, DiscoveryCache, type OidcDeps, OidcError, type OidcErrorCode, type OidcOptions, removeAgencyOidc } from './oidc-config.ts';

/**
 * Sign-in to the console through an agency's own OpenID provider: the authorization code flow
 * with PKCE, state and nonce, scopes `openid email profile`, with stock openid-client. The
 * console keeps the pending sign-in between the two halves (server-side, or in a short-lived
 * cookie sealed with `sealPendingOidc`) and matches the verified identity to a professional;
 * sign-in alone creates no one.
 */

const SCOPE = 'openid email profile';
/** How long a professional may take at their provider before the sign-in must start again. */
export const PENDING_TTL_MS = 10 * 60_000;

const pendingSchema = z.strictObject({
  agencyId: z.string(),
  issuer: z.string(),
  redirectUri: z.string(),
  state: z.string(),
  nonce: z.string(),
  codeVerifier: z.string(),
  startedAt: z.string(),
});

/** A sign-in between the redirect to the provider and its callback: secret, kept by the console only. */
export type PendingOidcSignIn = z.infer<typeof pendingSchema>;

/** Who the provider says signed in. Match by e-mail only when `emailVerified` is true. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/**
 * Starts a sign-in for the agency: the URL to send the browser to, and the pending sign-in to
 * keep until the callback. OidcError `oidc_not_configured`, `oidc_insecure_issuer` or
 * `oidc_discovery_failed`.
 */
export async function beginOidcSignIn(deps: OidcDeps, agencyId: string, redirectUri: string): Promise<{ url: URL; pending: PendingOidcSignIn }> {
  const row = await requireAgencyOidc(deps, agencyId);
  const config = await clientConfiguration(deps, row);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const pending = { agencyId, issuer: row.issuer, redirectUri, state, nonce, codeVerifier, startedAt: deps.clock.now().toISOString() };
  return { url, pending };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Finishes a sign-in at the callback URL (as the browser requested it): checks the state, the
 * age of the pending sign-in and that the agency's provider is still the one it began with,
 * exchanges the code (authenticating with the service's key), verifies the ID token (signature,
 * issuer, audience, nonce) and reads e-mail and name from it, or from the userinfo endpoint when
 * the ID token lacks an e-mail. OidcError `oidc_state_mismatch`, `oidc_expired`,
 * `oidc_not_configured`, `oidc_provider_error` (the provider refused, or its answer did not
 * verify) or `oidc_discovery_failed`.
 */
export async function completeOidcSignIn(deps: OidcDeps, pending: PendingOidcSignIn, callbackUrl: string | URL): Promise<OidcIdentity> {
  const callback = new URL(callbackUrl);
  const state = callback.searchParams.get('state');
  if (state === null || !sameSecret(state, pending.state)) throw new OidcError('oidc_state_mismatch', 'the callback does not belong to this sign-in');
  const age = deps.clock.now().getTime() - Date.parse(pending.startedAt);
  if (!(age >= 0 && age <= PENDING_TTL_MS)) throw new OidcError('oidc_expired', 'the sign-in took longer than ten minutes; start again');
  const error = callback.searchParams.get('error');
  if (error !== null) throw new OidcError('oidc_provider_error', `the provider answered ${error}`);

  const row = await requireAgencyOidc(deps, pending.agencyId);
  if (row.issuer !== pending.issuer) throw new OidcError('oidc_not_configured', "the agency's provider changed during the sign-in; start again");
  const config = await clientConfiguration(deps, row);
  // The redirect URI the code was issued for, whatever host or proxy the callback came through.
  const current = new URL(pending.redirectUri);
  current.search = callback.search;
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    throw new OidcError('oidc_provider_error', `the provider did not complete the sign-in: ${describeFailure(err)}`, { cause: err });
  }
  const claims = tokens.claims()!;
  let source: Record<string, unknown> = claims;
  if (typeof claims.email !== 'string' && config.serverMetadata().userinfo_endpoint) {
    try {
      source = { ...claims, ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)) };
    } catch (err) {
      throw new OidcError('oidc_provider_error', `the provider's userinfo could not be read: ${describeFailure(err)}`, { cause: err });
    }
  }
  // Lower-cased, so that the console compares it with an invitation's address regardless of case.
  const email = typeof source.email === 'string' && source.email ? source.email.toLowerCase() : null;
  return {
    issuer: claims.iss,
    subject: claims.sub,
    email,
    // Only a boolean true counts: an e-mail the provider has not verified could be anyone's.
    emailVerified: email !== null && source.email_verified === true,
    name: typeof source.name === 'string' && source.name ? source.name : null,
  };
}

const PENDING_PURPOSE = 'oidc-pending';

/**
 * The pending sign-in sealed for a cookie (base64url): encrypted and authenticated under a key
 * derived from the service's KEK, so the browser can neither read the code verifier nor alter it.
 */
export function sealPendingOidc(keys: KeyRing, pending: PendingOidcSignIn): string {
  return Buffer.from(keys.sealRecord(PENDING_PURPOSE, new TextEncoder().encode(JSON.stringify(pending)), 'console')).toString('base64url');
}

/** Opens what `sealPendingOidc` sealed; OidcError `oidc_pending_invalid` for anything else. */
export function openPendingOidc(keys: KeyRing, sealed: string): PendingOidcSignIn {
  try {
    const plain = keys.openRecord(PENDING_PURPOSE, new Uint8Array(Buffer.from(sealed, 'base64url')), 'console');
    return pendingSchema.parse(JSON.parse(new TextDecoder().decode(plain)));
  } catch (err) {
    throw new OidcError('oidc_pending_invalid', 'the pending sign-in cannot be read; start again', { cause: err });
  }
}
