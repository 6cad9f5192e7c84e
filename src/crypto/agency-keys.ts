import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

/** Thrown when a file does not hold a usable agency public key. */
export class AgencyKeyError extends Error {
  readonly code = 'ERR_AGENCY_KEY';
}

export type AgencyKeyAlg = 'EdDSA' | 'ES256';

export interface AgencyPublicKey {
  kid: string;
  alg: AgencyKeyAlg;
  jwk: JWK;
}

function fromKeyObject(key: KeyObject): { alg: AgencyKeyAlg; jwk: JWK } {
  if (key.asymmetricKeyType === 'ed25519') return { alg: 'EdDSA', jwk: key.export({ format: 'jwk' }) as JWK };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { alg: 'ES256', jwk: key.export({ format: 'jwk' }) as JWK };
  }
  throw new AgencyKeyError('only Ed25519 and P-256 keys are accepted');
}

/**
 * Reads an agency's public key from a JWK (JSON) or a PEM. A private key is refused: the
 * agency keeps it, the index never holds it.
 */
export async function parseAgencyPublicKey(text: string): Promise<AgencyPublicKey> {
  const trimmed = text.trim();
  let parsed: { alg: AgencyKeyAlg; jwk: JWK };
  if (trimmed.startsWith('{')) {
    let jwk: JWK;
    try {
      jwk = JSON.parse(trimmed) as JWK;
    } catch {
      throw new AgencyKeyError('the key file is neither a JWK nor a PEM');
    }
    if (jwk.d !== undefined) throw new AgencyKeyError('this is a private key: register the public key only');
    try {
      parsed = fromKeyObject(createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }));
    } catch (err) {
      if (err instanceof AgencyKeyError) throw err;
      throw new AgencyKeyError('the JWK is not a valid Ed25519 or P-256 public key');
    }
  } else {
    if (/PRIVATE KEY/.test(trimmed)) throw new AgencyKeyError('this is a private key: register the public key only');
    try {
      parsed = fromKeyObject(createPublicKey(trimmed));
    } catch (err) {
      if (err instanceof AgencyKeyError) throw err;
      throw new AgencyKeyError('the key file is neither a JWK nor a PEM public key');
    }
  }
  const kid = await calculateJwkThumbprint(parsed.jwk);
  return { kid, alg: parsed.alg, jwk: { ...parsed.jwk, kid, alg: parsed.alg, use: 'sig' } };
}
