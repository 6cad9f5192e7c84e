import { createHash, timingSafeEqual } from 'node:crypto';
import { ACTING_PROFESSIONAL_PATTERN } from '../app/authenticate.ts';
import { opaqueId, randomToken } from '../crypto/ids.ts';

/** A fresh secret for a cookie or a link: 256 random bits, base32. */
export function newSecret(): string {
  return randomToken(32);
}

/** What the database keeps of a secret: its SHA-256, so that a copy of the database opens no session. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const ACTING = new RegExp(ACTING_PROFESSIONAL_PATTERN);

/**
 * A professional's id, valid as X-Acting-Professional: random (it tells nothing about when the
 * person joined), drawn again in the rare case that it holds a run of eight digits.
 */
export function newProfessionalId(): string {
  for (;;) {
    const id = opaqueId('prf');
    if (ACTING.test(id)) return id;
  }
}
