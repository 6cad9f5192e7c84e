import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import type { KeyRing } from './key-ring.ts';

/**
 * The `typ` of a checkpoint: distinct from access tokens (`at+jwt`), so that neither can be
 * passed off as the other although the same key signs both.
 */
export const CHECKPOINT_TYP = 'audit-checkpoint+jwt';

/** What a checkpoint vouches for: the chain had `seq` records and the last one hashed to `head`. */
export interface Checkpoint {
  issuer: string;
  seq: number;
  head: string;
  /** When the checkpoint was signed (ISO 8601, whole seconds: the JWT's `iat`). */
  at: string;
  kid: string;
}

/** A checkpoint that cannot be trusted; `code` names why (jose's code where jose refused it). */
export class CheckpointError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Signs a checkpoint of the audit chain with the service's current Ed25519 key, as a JWT
 * (compact JWS) with the key id in its header: anyone can verify it with /.well-known/jwks.json,
 * also after a key rotation, since old signing keys stay published.
 */
export async function signCheckpoint(keys: KeyRing, issuer: string, head: { seq: number; hash: string }, now: Date): Promise<{ jws: string; checkpoint: Checkpoint }> {
  const signing = keys.currentSigningKey;
  const iat = Math.floor(now.getTime() / 1000);
  const jws = await new SignJWT({ seq: head.seq, head: head.hash })
    .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid, typ: CHECKPOINT_TYP })
    .setIssuer(issuer)
    .setIssuedAt(iat)
    .sign(signing.privateKey);
  return { jws, checkpoint: { issuer, seq: head.seq, head: head.hash, at: new Date(iat * 1000).toISOString(), kid: signing.kid } };
}

/**
 * Verifies a checkpoint's signature with the service's public keys (a JWK Set) and returns what
 * it vouches for. Throws CheckpointError naming what is wrong.
 */
export async function verifyCheckpoint(jws: string, jwks: JSONWebKeySet): Promise<Checkpoint> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(jws).kid;
  } catch {
    throw new CheckpointError('ERR_CHECKPOINT_MALFORMED', 'the checkpoint is not a JWS');
  }
  if (!kid) throw new CheckpointError('ERR_CHECKPOINT_MALFORMED', 'the checkpoint names no key (kid)');
  let payload;
  try {
    ({ payload } = await jwtVerify(jws, createLocalJWKSet(jwks), { algorithms: ['EdDSA'], typ: CHECKPOINT_TYP, requiredClaims: ['iss', 'iat'] }));
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'ERR_CHECKPOINT_INVALID';
    if (code === 'ERR_JWKS_NO_MATCHING_KEY') throw new CheckpointError(code, `the checkpoint was signed with key ${kid}, which is not among the service's public keys`);
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new CheckpointError(code, `the checkpoint's signature does not verify with key ${kid}: it was altered or forged`);
    throw new CheckpointError(code, `the checkpoint is not valid: ${(err as Error).message}`);
  }
  const { seq, head, iss, iat } = payload;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || typeof head !== 'string' || !/^[0-9a-f]{64}$/.test(head)) {
    throw new CheckpointError('ERR_CHECKPOINT_MALFORMED', 'the checkpoint does not hold a sequence number and a head hash');
  }
  return { issuer: iss!, seq, head, at: new Date(iat! * 1000).toISOString(), kid };
}
