import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes, utf8ToBytes } from '@noble/ciphers/utils.js';

const NONCE_BYTES = 24;
const KEY_BYTES = 32;

/** Thrown when a sealed value cannot be opened: wrong key, wrong associated data, or tampering. */
export class SealOpenError extends Error {
  readonly code = 'ERR_SEAL_OPEN';
  constructor() {
    super('sealed value could not be opened');
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new TypeError('seal keys are 32 bytes');
}

/**
 * Encrypts with XChaCha20-Poly1305 under a fresh random 24-byte nonce.
 * `aad` binds the ciphertext to its place (a row id): moved elsewhere, it will not open.
 * Output: nonce ‖ ciphertext ‖ tag.
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): Uint8Array {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const ct = xchacha20poly1305(key, nonce, utf8ToBytes(aad)).encrypt(plaintext);
  const out = new Uint8Array(NONCE_BYTES + ct.length);
  out.set(nonce, 0);
  out.set(ct, NONCE_BYTES);
  return out;
}

/** Opens what `seal` produced with the same key and associated data, or throws SealOpenError. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: string): Uint8Array {
  checkKey(key);
  if (sealed.length < NONCE_BYTES + 16) throw new SealOpenError();
  try {
    return xchacha20poly1305(key, sealed.subarray(0, NONCE_BYTES), utf8ToBytes(aad)).decrypt(
      sealed.subarray(NONCE_BYTES),
    );
  } catch {
    throw new SealOpenError();
  }
}

/** A fresh random data key. */
export function newDataKey(): Uint8Array {
  return randomBytes(KEY_BYTES);
}

export function sealJson(key: Uint8Array, value: unknown, aad: string): Uint8Array {
  return seal(key, utf8ToBytes(JSON.stringify(value)), aad);
}

export function openJson<T>(key: Uint8Array, sealed: Uint8Array, aad: string): T {
  return JSON.parse(new TextDecoder().decode(open(key, sealed, aad))) as T;
}
