import { randomUUID } from 'node:crypto';
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

export type IdPrefix = 'agy' | 'sig' | 'sub' | 'fam' | 'mat' | 'ntc' | 'cst' | 'req' | 'key' | 'prf' | 'ses';

/** Where each series of ids stands: its last millisecond and random part. */
const series = new Map<string, { ms: number; random: Uint8Array }>();

/** Adds one to a big-endian counter; false when it wraps. */
function increment(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 255) {
      bytes[i]!++;
      return true;
    }
    bytes[i] = 0;
  }
  return false;
}

/**
 * A prefixed id that sorts by creation time: 48 bits of milliseconds, then 80 random bits.
 * Within one millisecond (or a clock that stands still) the random part counts up, so in one
 * process the order of ids is always the order of creation; lists page by id.
 *
 * `scope` names the series the id belongs to: the one party that sees it (the recipient of a
 * notice, the registrant of a signal) or the match of a case table. Each series counts on its
 * own, so the step between two ids a party sees within one millisecond counts only ids of its
 * own: were the count shared, the gap would tell how many notices went to others in between,
 * Veilig Thuis among them.
 */
export function newId(prefix: IdPrefix, now: Date, scope = ''): string {
  const key = `${prefix}:${scope}`;
  let ms = now.getTime();
  let at = series.get(key);
  if (at && ms <= at.ms && increment(at.random)) {
    ms = at.ms;
  } else {
    if (!at) {
      // Series of earlier milliseconds can only start afresh: forget them now and then.
      if (series.size >= 10_000) for (const [k, v] of series) if (v.ms < ms) series.delete(k);
      series.set(key, (at = { ms, random: new Uint8Array(10) }));
    }
    at.random.set(randomBytes(10));
    at.random[0]! &= 0x7f; // room to count up before the part wraps
  }
  at.ms = Math.max(ms, at.ms);
  const bytes = new Uint8Array(16);
  for (let i = 5, rest = ms; i >= 0; i--) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  bytes.set(at.random, 6);
  return `${prefix}_${base32(bytes)}`;
}

const HEX_DIGIT_AS_LETTER = 'ghijklmnop';

/**
 * A request id: 122 random bits from randomUUID, which draws from a pool Node keeps filled (an id
 * per request costs next to nothing). Its decimal digits are spelled as letters, so the logs'
 * masking of nine-digit numbers (a BSN) can never touch the id a client quotes.
 */
export function newRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '').replace(/[0-9]/g, (d) => HEX_DIGIT_AS_LETTER[Number(d)]!)}`;
}

/** A random token of the given number of bytes, base32 encoded. */
export function randomToken(byteCount = 16): string {
  return base32(randomBytes(byteCount));
}

/**
 * A prefixed id with no time in it, for things whose age must not be readable from their id
 * (a match that existed before a party could see it must not show how long it has existed).
 */
export function opaqueId(prefix: IdPrefix): string {
  return `${prefix}_${base32(randomBytes(16))}`;
}
