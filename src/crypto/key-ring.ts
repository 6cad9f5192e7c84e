import fs from 'node:fs';
import path from 'node:path';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { open, seal } from './seal.ts';

/** Thrown when the key directory cannot be used; the message says what to do. */
export class KeyRingError extends Error {
  readonly code = 'ERR_KEY_RING';
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const PSEUDONYM_FILE = 'pseudonym.key';
const CANARY = Buffer.from('betrokken kek canary');
const KEK_FILE = /^kek-(\d{4})\.key$/;
const SIGNING_FILE = /^signing-(\d{4})\.jwk$/;

/**
 * The service's secrets, loaded from files outside the database. Raw key bytes stay inside:
 * callers get pseudonyms, wrapped data keys and signing keys, never the pseudonym key or a KEK.
 */
export class KeyRing {
  readonly #pseudonymKey: Uint8Array;
  readonly #keks: Map<number, Uint8Array>;
  readonly #currentKek: number;
  readonly signingKeys: readonly SigningKey[];

  constructor(pseudonymKey: Uint8Array, keks: Map<number, Uint8Array>, signingKeys: SigningKey[]) {
    if (pseudonymKey.length !== 32) throw new KeyRingError('the pseudonym key must be 32 bytes');
    if (keks.size === 0) throw new KeyRingError('no key-encryption key');
    if (signingKeys.length === 0) throw new KeyRingError('no signing key');
    this.#pseudonymKey = pseudonymKey;
    this.#keks = keks;
    this.#currentKek = Math.max(...keks.keys());
    this.signingKeys = signingKeys;
  }

  /** The keyed pseudonym of a BSN (HMAC-SHA256, hex). The only form in which a BSN is kept. */
  pseudonymize(bsn: string): string {
    return bytesToHex(hmac(sha256, this.#pseudonymKey, utf8ToBytes(bsn)));
  }

  /**
   * A keyed digest for other purposes (such as request fingerprints that contain a BSN), so
   * that no unkeyed hash of subject data is ever stored. Domain-separated from pseudonyms.
   */
  keyedDigest(purpose: string, data: string): string {
    return bytesToHex(hmac(sha256, this.#pseudonymKey, utf8ToBytes(`${purpose}\u0000${data}`)));
  }

  /** Identifies the pseudonym key without revealing it, so a database can refuse foreign keys. */
  fingerprint(): string {
    return bytesToHex(sha256(utf8ToBytes(`betrokken:pseudonym-key:${bytesToHex(this.#pseudonymKey)}`))).slice(0, 32);
  }

  get currentKekVersion(): number {
    return this.#currentKek;
  }

  /** The KEK versions this ring holds, oldest first. */
  kekVersions(): number[] {
    return [...this.#keks.keys()].sort((a, b) => a - b);
  }

  /**
   * A canary for one KEK version: a known value sealed under it, kept in the database when the
   * version is first used, so that a start with a missing or wrong KEK stops before it listens.
   */
  sealCanary(version: number): Uint8Array {
    const kek = this.#keks.get(version);
    if (!kek) throw new KeyRingError(`key-encryption key version ${version} is missing`);
    return seal(kek, CANARY, `kek-canary:${version}`);
  }

  /** Whether the KEK of that version is present and opens its canary. */
  opensCanary(version: number, sealed: Uint8Array): boolean {
    const kek = this.#keks.get(version);
    if (!kek) return false;
    try {
      return Buffer.from(open(kek, sealed, `kek-canary:${version}`)).equals(CANARY);
    } catch {
      return false;
    }
  }

  /** Wraps a subject's data key under the current KEK, bound to the subject id. */
  wrapDataKey(dataKey: Uint8Array, subjectId: string): { wrapped: Uint8Array; kekVersion: number } {
    const kek = this.#keks.get(this.#currentKek)!;
    return { wrapped: seal(kek, dataKey, `dek:${subjectId}`), kekVersion: this.#currentKek };
  }

  unwrapDataKey(wrapped: Uint8Array, kekVersion: number, subjectId: string): Uint8Array {
    const kek = this.#keks.get(kekVersion);
    if (!kek) throw new KeyRingError(`key-encryption key version ${kekVersion} is missing`);
    return open(kek, wrapped, `dek:${subjectId}`);
  }

  /**
   * Seals a small record that must outlive every subject's data key (a shielding marker, a notice
   * about an erased subject) under a key derived from the current KEK for `purpose`. The KEK
   * version travels in the first two bytes, so a rotated ring still opens it.
   */
  sealRecord(purpose: string, plaintext: Uint8Array, aad: string): Uint8Array {
    const version = this.#currentKek;
    const sealed = seal(this.#recordKey(purpose, version), plaintext, `${purpose}:${aad}`);
    const out = new Uint8Array(2 + sealed.length);
    out[0] = version >> 8;
    out[1] = version & 0xff;
    out.set(sealed, 2);
    return out;
  }

  /** Opens what `sealRecord` sealed for the same purpose and associated data. */
  openRecord(purpose: string, sealed: Uint8Array, aad: string): Uint8Array {
    if (sealed.length < 2) throw new KeyRingError('sealed record too short');
    const version = (sealed[0]! << 8) | sealed[1]!;
    return open(this.#recordKey(purpose, version), sealed.subarray(2), `${purpose}:${aad}`);
  }

  #recordKey(purpose: string, version: number): Uint8Array {
    const kek = this.#keks.get(version);
    if (!kek) throw new KeyRingError(`key-encryption key version ${version} is missing`);
    return hmac(sha256, kek, utf8ToBytes(`betrokken:record:${purpose}`));
  }

  get currentSigningKey(): SigningKey {
    return this.signingKeys[this.signingKeys.length - 1]!;
  }

  /** The public JWK Set published at /.well-known/jwks.json. */
  jwks(): { keys: JWK[] } {
    return { keys: this.signingKeys.map((k) => k.publicJwk) };
  }
}

function writeSecret(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
}

function readSecret(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new KeyRingError(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unknown error'}`);
  }
}

function decode32(file: string): Uint8Array {
  const bytes = Buffer.from(readSecret(file), 'base64');
  if (bytes.length !== 32) throw new KeyRingError(`key file ${file} does not hold a 32-byte base64 key`);
  return new Uint8Array(bytes);
}

async function newSigningJwk(version: number): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `sig-${version.toString().padStart(4, '0')}-${bytesToHex(randomBytes(4))}`, alg: 'EdDSA', use: 'sig' };
}

async function importSigning(file: string): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(readSecret(file)) as JWK;
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.kid) throw new Error('not an Ed25519 private JWK');
  } catch (err) {
    if (err instanceof KeyRingError) throw err;
    throw new KeyRingError(`signing key file ${file} is not an Ed25519 private JWK`);
  }
  const privateKey = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
  const { d: _d, ...publicJwk } = jwk;
  return { kid: jwk.kid!, privateKey, publicJwk };
}

function versioned(files: string[], pattern: RegExp): Array<[number, string]> {
  return files
    .map((f) => [f, pattern.exec(f)] as const)
    .filter(([, m]) => m)
    .map(([f, m]) => [Number(m![1]), f] as [number, string])
    .sort((a, b) => a[0] - b[0]);
}

export const fileName = (kind: 'kek' | 'signing', v: number) =>
  `${kind}-${v.toString().padStart(4, '0')}.${kind === 'kek' ? 'key' : 'jwk'}`;

/** Whether the directory holds any key of the service. */
export function hasKeys(dir: string): boolean {
  if (!fs.existsSync(dir)) return false;
  const files = fs.readdirSync(dir);
  return files.includes(PSEUDONYM_FILE) || files.some((f) => KEK_FILE.test(f) || SIGNING_FILE.test(f));
}

/** Creates the first set of keys (mode 0600, directory 0700). Refuses if any key exists. */
export async function generateKeys(dir: string): Promise<void> {
  if (hasKeys(dir)) throw new KeyRingError(`keys already exist in ${dir}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSecret(path.join(dir, PSEUDONYM_FILE), Buffer.from(randomBytes(32)).toString('base64'));
  writeSecret(path.join(dir, fileName('kek', 1)), Buffer.from(randomBytes(32)).toString('base64'));
  writeSecret(path.join(dir, fileName('signing', 1)), JSON.stringify(await newSigningJwk(1)));
}

/** Adds a new KEK and signing key version; older versions stay for reading and verifying. */
export async function rotateKeys(dir: string): Promise<{ kekVersion: number; signingVersion: number }> {
  const files = fs.readdirSync(dir);
  const kekVersion = (versioned(files, KEK_FILE).at(-1)?.[0] ?? 0) + 1;
  const signingVersion = (versioned(files, SIGNING_FILE).at(-1)?.[0] ?? 0) + 1;
  writeSecret(path.join(dir, fileName('kek', kekVersion)), Buffer.from(randomBytes(32)).toString('base64'));
  writeSecret(path.join(dir, fileName('signing', signingVersion)), JSON.stringify(await newSigningJwk(signingVersion)));
  return { kekVersion, signingVersion };
}

/** Loads every key in the directory; a missing or unreadable key is a KeyRingError. */
export async function loadKeyRing(dir: string): Promise<KeyRing> {
  if (!fs.existsSync(dir)) throw new KeyRingError(`key directory ${dir} does not exist`);
  const files = fs.readdirSync(dir);
  if (!files.includes(PSEUDONYM_FILE)) throw new KeyRingError(`pseudonym key ${path.join(dir, PSEUDONYM_FILE)} is missing`);
  const kekFiles = versioned(files, KEK_FILE);
  if (kekFiles.length === 0) throw new KeyRingError(`no key-encryption key (kek-NNNN.key) in ${dir}`);
  const signingFiles = versioned(files, SIGNING_FILE);
  if (signingFiles.length === 0) throw new KeyRingError(`no signing key (signing-NNNN.jwk) in ${dir}`);
  const keks = new Map(kekFiles.map(([v, f]) => [v, decode32(path.join(dir, f))]));
  const signing = await Promise.all(signingFiles.map(([, f]) => importSigning(path.join(dir, f))));
  return new KeyRing(decode32(path.join(dir, PSEUDONYM_FILE)), keks, signing);
}

/**
 * The public JWK Set of the signing keys in the directory (what /.well-known/jwks.json shows),
 * read without the other keys: enough to verify what the service signed.
 */
export function loadPublicSigningKeys(dir: string): { keys: JWK[] } {
  if (!fs.existsSync(dir)) throw new KeyRingError(`key directory ${dir} does not exist`);
  const signingFiles = versioned(fs.readdirSync(dir), SIGNING_FILE);
  if (signingFiles.length === 0) throw new KeyRingError(`no signing key (signing-NNNN.jwk) in ${dir}`);
  const keys = signingFiles.map(([, f]) => {
    const file = path.join(dir, f);
    let jwk: JWK;
    try {
      jwk = JSON.parse(readSecret(file)) as JWK;
    } catch (err) {
      if (err instanceof KeyRingError) throw err;
      throw new KeyRingError(`signing key file ${file} is not an Ed25519 JWK`);
    }
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x || !jwk.kid) throw new KeyRingError(`signing key file ${file} is not an Ed25519 JWK`);
    const { d: _d, ...publicJwk } = jwk;
    return publicJwk;
  });
  return { keys };
}

/** An in-memory key ring with fresh random keys, for tests and throwaway runs. */
export async function ephemeralKeyRing(): Promise<KeyRing> {
  const jwk = await newSigningJwk(1);
  const privateKey = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
  const { d: _d, ...publicJwk } = jwk;
  return new KeyRing(randomBytes(32), new Map([[1, randomBytes(32)]]), [{ kid: jwk.kid!, privateKey, publicJwk }]);
}
