import { createLocalJWKSet, decodeProtectedHeader, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { randomToken } from './ids.ts';
import type { KeyRing } from './key-ring.ts';

/**
 * Algorithms accepted for client assertions; never `none` or an HMAC. `Ed25519` is the fully
 * specified name (RFC 9864) of what `EdDSA` means for our keys; stock clients sign with either.
 */
export const ASSERTION_ALGS = ['EdDSA', 'Ed25519', 'ES256'] as const;

/** The algorithm a registered key is stored under (`EdDSA` or `ES256`) for a JWS `alg`. */
const registeredAlg = (alg: string) => (alg === 'Ed25519' ? 'EdDSA' : alg);
/** RFC 7523: a client assertion may live at most this long. */
export const MAX_ASSERTION_LIFETIME_S = 300;
export const ACCESS_TOKEN_TTL_S = 600;
const CLOCK_SKEW_S = 30;
const ACCESS_TOKEN_TYP = 'at+jwt';

/**
 * A token that is not acceptable. The message is for the log; `reason` is a stable code from a
 * fixed set (ours or jose's), safe for the audit log since no input of the caller is in it.
 */
export class TokenError extends Error {
  readonly code = 'ERR_TOKEN_INVALID';
  constructor(
    message: string,
    readonly reason: string = 'token_invalid',
  ) {
    super(message);
  }
}

/** A jose verification error as a TokenError: its code as the reason, the failed claim in the message. */
function joseRefusal(err: unknown, fallback: string): TokenError {
  const e = err as { code?: string; claim?: string; reason?: string };
  const code = typeof e.code === 'string' && /^ERR_[A-Z_]+$/.test(e.code) ? e.code : fallback;
  // jose names the claim it checked (a fixed set of names), never the caller's value.
  const claim = typeof e.claim === 'string' && /^[a-z_]{1,16}$/.test(e.claim) ? e.claim : undefined;
  return new TokenError(claim ? `${code}: claim ${claim} ${e.reason ?? 'invalid'}` : code, claim ? `${code}(${claim})` : code);
}

export interface AssertionKey {
  kid: string;
  alg: string;
  jwk: Record<string, unknown>;
}

/**
 * Verifies an agency's client assertion (RFC 7523 §3) with its registered keys: pinned
 * algorithms, iss = sub = the agency, our audience, a jti, and a lifetime of at most five minutes.
 */
export async function verifyClientAssertion(
  assertion: string,
  opts: { agencyId: string; keys: AssertionKey[]; audiences: string[]; now: Date },
): Promise<{ jti: string; exp: number; kid: string }> {
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw new TokenError('assertion is not a JWS', 'not_a_jws');
  }
  if (!header.alg || !(ASSERTION_ALGS as readonly string[]).includes(header.alg)) {
    throw new TokenError(`algorithm ${header.alg} not allowed`, 'algorithm_not_allowed');
  }
  const candidates = opts.keys.filter((k) => (header.kid ? k.kid === header.kid : true) && k.alg === registeredAlg(header.alg!));
  if (candidates.length === 0) throw new TokenError('no registered key matches the assertion', 'no_matching_key');

  let payload: JWTPayload | undefined;
  let kid = '';
  for (const candidate of candidates) {
    try {
      const key = await importJWK(candidate.jwk as JWK, header.alg);
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: [...ASSERTION_ALGS],
        issuer: opts.agencyId,
        subject: opts.agencyId,
        audience: opts.audiences,
        currentDate: opts.now,
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ['exp', 'jti'],
      }));
      kid = candidate.kid;
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
        throw joseRefusal(err, 'assertion_invalid');
      }
    }
  }
  if (!payload) throw new TokenError('signature does not verify with any registered key', 'signature_invalid');
  const nowS = Math.floor(opts.now.getTime() / 1000);
  if (payload.exp! - nowS > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) throw new TokenError('assertion lives longer than five minutes', 'lifetime_too_long');
  if (typeof payload.iat === 'number' && payload.exp! - payload.iat > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
    throw new TokenError('assertion lives longer than five minutes', 'lifetime_too_long');
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 200) throw new TokenError('jti missing or too long', 'jti_invalid');
  return { jti: payload.jti, exp: payload.exp!, kid };
}

export interface AccessClaims {
  agencyId: string;
  scopes: string[];
  /** The agency key whose assertion earned the token: revoking that key ends the token too. */
  agencyKid: string;
}

/** Private claim naming the agency key behind an access token. */
const AGENCY_KID_CLAIM = 'agency_kid';

/** Signs a short-lived access token (RFC 9068 profile) with the service's current Ed25519 key. */
export async function signAccessToken(keys: KeyRing, issuer: string, claims: AccessClaims, now: Date): Promise<string> {
  const signing = keys.currentSigningKey;
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ scope: claims.scopes.join(' '), client_id: claims.agencyId, [AGENCY_KID_CLAIM]: claims.agencyKid })
    .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(issuer)
    .setSubject(claims.agencyId)
    .setAudience(issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_TTL_S)
    .setJti(randomToken(12))
    .sign(signing.privateKey);
}

/** Returns a verifier for the service's own access tokens, bound to its published keys. */
export function accessTokenVerifier(keys: KeyRing, issuer: string) {
  const jwks = createLocalJWKSet(keys.jwks());
  return async (token: string, now: Date): Promise<AccessClaims> => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: ['EdDSA'],
        issuer,
        audience: issuer,
        typ: ACCESS_TOKEN_TYP,
        currentDate: now,
        requiredClaims: ['exp', 'sub', AGENCY_KID_CLAIM],
      });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      const agencyKid = payload[AGENCY_KID_CLAIM];
      if (typeof agencyKid !== 'string') throw new TokenError('access token names no agency key');
      return { agencyId: payload.sub!, scopes, agencyKid };
    } catch (err) {
      if (err instanceof TokenError) throw err;
      throw joseRefusal(err, 'access_token_invalid');
    }
  };
}

/**
 * Signs a client assertion as an agency's system would (used by `betrokken assertion`, the demo
 * and the tests). The private key is a PKCS#8 PEM or a private JWK, Ed25519 or P-256.
 */
export async function signClientAssertion(
  privateKeyText: string,
  opts: { agencyId: string; audience: string; now?: Date; lifetimeS?: number },
): Promise<string> {
  const { createPrivateKey } = await import('node:crypto');
  const trimmed = privateKeyText.trim();
  const keyObject = trimmed.startsWith('{')
    ? createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' })
    : createPrivateKey(trimmed);
  const alg = keyObject.asymmetricKeyType === 'ed25519' ? 'EdDSA' : 'ES256';
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg })
    .setIssuer(opts.agencyId)
    .setSubject(opts.agencyId)
    .setAudience(opts.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.lifetimeS ?? 120))
    .setJti(randomToken(16))
    .sign(keyObject);
}
