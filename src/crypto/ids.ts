import { randomBytes } from '@noble/ciphers/utils.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export type IdPrefix = 'agy' | 'sig' | 'sub' | 'mat' | 'ntc' | 'cst' | 'req' | 'key';

/**
 * A prefixed id that sorts by creation time: 48 bits of milliseconds, then 80 random bits.
 * Lists page by id, so the order of ids is the order of registration.
 */
export function newId(prefix: IdPrefix, now: Date): string {
  const bytes = new Uint8Array(16);
  let ms = now.getTime();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes.set(randomBytes(10), 6);
  return `${prefix}_${base32(bytes)}`;
}

/** A random token of the given number of bytes, base32 encoded. */
export function randomToken(byteCount = 16): string {
  return base32(randomBytes(byteCount));
}
