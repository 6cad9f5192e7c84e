import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isValidBsn } from '../../src/crypto/bsn.ts';
import { newRequestId } from '../../src/crypto/ids.ts';
import { validBsn } from '../support/harness.ts';
import { ephemeralKeyRing, generateKeys, KeyRing, KeyRingError, loadKeyRing, rotateKeys } from '../../src/crypto/key-ring.ts';
import { newDataKey, open, openJson, seal, SealOpenError, sealJson } from '../../src/crypto/seal.ts';

describe('BSN 11-test', () => {
  it.each(['111222333', '123456782', '999996356'])('accepts %s', (bsn) => {
    expect(isValidBsn(bsn)).toBe(true);
  });
  it.each([
    ['123456789', 'fails the weighted sum'],
    ['111222334', 'last digit off by one'],
    ['000000000', 'all zeros'],
    ['11122233', 'eight digits'],
    ['1112223333', 'ten digits'],
    ['11122233a', 'a letter'],
    [' 111222333', 'leading space'],
    ['１１１２２２３３３', 'full-width digits'],
    ['', 'empty'],
  ])('refuses %s (%s)', (bsn) => {
    expect(isValidBsn(bsn)).toBe(false);
  });
  it('the test BSN generator gives a distinct valid BSN for every counter (the bench seeds millions)', () => {
    const seen = new Set<string>();
    for (let n = 0; n < 500_000; n++) seen.add(validBsn(n));
    expect(seen.size).toBe(500_000);
    for (let n = 0; n < 500_000; n += 997) expect(isValidBsn(validBsn(n)), String(n)).toBe(true);
    expect(isValidBsn(validBsn(8_999_999))).toBe(true);
  });
});

describe('pseudonyms', () => {
  // Expected values computed independently (Python's hmac module, HMAC-SHA256).
  const vectors: Array<[Uint8Array, string, string]> = [
    [Uint8Array.from({ length: 32 }, (_, i) => i), '111222333', '4999759a57556ce0e533e2fcbc8ef1c744fa520ffe795db89ed649cac0a0441e'],
    [Uint8Array.from({ length: 32 }, (_, i) => i), '123456782', '8e4c078580cfe222fd12ced43ae58d770a18bb5092337edc9e9ba06050b7ba02'],
    [new Uint8Array(32).fill(0x0b), '111222333', '0db202faf27e4ce2e1e76a59d1c8bebc7bf682cbbadf5d66685349567ded2b0c'],
  ];
  it.each(vectors)('HMAC-SHA256 vector %#', async (key, bsn, expected) => {
    const signing = (await ephemeralKeyRing()).signingKeys as KeyRing['signingKeys'];
    const ring = new KeyRing(key, new Map([[1, newDataKey()]]), [...signing]);
    expect(ring.pseudonymize(bsn)).toBe(expected);
  });

  it('differs per key, so a stolen database cannot be matched against a list of BSNs', async () => {
    const [a, b] = await Promise.all([ephemeralKeyRing(), ephemeralKeyRing()]);
    expect(a.pseudonymize('111222333')).not.toBe(b.pseudonymize('111222333'));
    expect(a.pseudonymize('111222333')).toBe(a.pseudonymize('111222333'));
  });

  it('keeps keyed digests apart from pseudonyms', async () => {
    const ring = await ephemeralKeyRing();
    expect(ring.keyedDigest('idempotency', '111222333')).not.toBe(ring.pseudonymize('111222333'));
  });
});

describe('request ids', () => {
  it('are distinct and hold no digit, so that masking nine-digit numbers in the logs never touches one', () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => newRequestId()));
    expect(ids.size).toBe(20_000);
    for (const id of ids) expect(id).toMatch(/^req_[a-p]{32}$/);
  });
});

describe('seal / open (XChaCha20-Poly1305)', () => {
  const key = newDataKey();
  const text = new TextEncoder().encode('{"name":"J. de Vries"}');

  it('round-trips with the same key and associated data', () => {
    expect(new TextDecoder().decode(open(key, seal(key, text, 'signal:sig_1'), 'signal:sig_1'))).toBe('{"name":"J. de Vries"}');
    expect(openJson(key, sealJson(key, { a: 1 }, 'x'), 'x')).toEqual({ a: 1 });
  });

  it('uses a fresh nonce every time', () => {
    const a = seal(key, text, 'x');
    const b = seal(key, text, 'x');
    expect(Buffer.from(a.subarray(0, 24)).equals(Buffer.from(b.subarray(0, 24)))).toBe(false);
    expect(a.length).toBe(24 + text.length + 16);
  });

  it('refuses a tampered ciphertext, nonce or tag', () => {
    const sealed = seal(key, text, 'signal:sig_1');
    for (const at of [0, 23, 24, 30, sealed.length - 1]) {
      const bad = Uint8Array.from(sealed);
      bad[at]! ^= 0x01;
      expect(() => open(key, bad, 'signal:sig_1')).toThrow(SealOpenError);
    }
    expect(() => open(key, sealed.subarray(0, 30), 'signal:sig_1')).toThrow(SealOpenError);
  });

  it('refuses the wrong associated data (a ciphertext moved to another row)', () => {
    expect(() => open(key, seal(key, text, 'signal:sig_1'), 'signal:sig_2')).toThrow(SealOpenError);
  });

  it('refuses the wrong key', () => {
    expect(() => open(newDataKey(), seal(key, text, 'x'), 'x')).toThrow(SealOpenError);
  });
});

describe('records sealed by the key ring', () => {
  it('open for the same purpose and associated data only, and after a rotation', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-records-'));
    await generateKeys(dir);
    const before = await loadKeyRing(dir);
    const bytes = (v: string) => new TextEncoder().encode(v);
    const sealed = before.sealRecord('shield', bytes('["agy_1"]'), 'tag-1');
    expect(() => before.openRecord('notice', sealed, 'tag-1')).toThrow(SealOpenError);
    expect(() => before.openRecord('shield', sealed, 'tag-2')).toThrow(SealOpenError);
    await rotateKeys(dir);
    const after = await loadKeyRing(dir);
    expect(new TextDecoder().decode(after.openRecord('shield', sealed, 'tag-1'))).toBe('["agy_1"]');
    expect(after.sealRecord('shield', bytes('x'), 'tag-1')[1]).toBe(2); // sealed under the new KEK
    const stranger = await ephemeralKeyRing(); // another service's keys open nothing
    expect(() => stranger.openRecord('shield', sealed, 'tag-1')).toThrow();
  });
});

describe('key ring on disk', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-keys-'));

  it('generates keys with mode 0600 in a 0700 directory and loads them back', async () => {
    const dir = path.join(tmp(), 'keys');
    await generateKeys(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(['kek-0001.key', 'pseudonym.key', 'signing-0001.jwk']);
    const a = await loadKeyRing(dir);
    const b = await loadKeyRing(dir);
    expect(a.pseudonymize('111222333')).toBe(b.pseudonymize('111222333'));
    expect(a.jwks().keys[0]).not.toHaveProperty('d');
  });

  it('refuses to generate over existing keys', async () => {
    const dir = tmp();
    await generateKeys(dir);
    await expect(generateKeys(dir)).rejects.toThrow(KeyRingError);
  });

  it('names an unreadable or damaged key file', async () => {
    const dir = tmp();
    await generateKeys(dir);
    fs.writeFileSync(path.join(dir, 'kek-0001.key'), 'c2hvcnQ=');
    await expect(loadKeyRing(dir)).rejects.toThrow(/kek-0001\.key/);
    fs.rmSync(path.join(dir, 'pseudonym.key'));
    await expect(loadKeyRing(dir)).rejects.toThrow(/pseudonym key/);
  });

  it('rotates: new data keys are wrapped by the new KEK, old wrapped keys still open', async () => {
    const dir = tmp();
    await generateKeys(dir);
    const before = await loadKeyRing(dir);
    const dek = newDataKey();
    const old = before.wrapDataKey(dek, 'sub_1');
    await rotateKeys(dir);
    const after = await loadKeyRing(dir);
    expect(after.currentKekVersion).toBe(2);
    expect(after.jwks().keys).toHaveLength(2);
    expect(after.unwrapDataKey(old.wrapped, old.kekVersion, 'sub_1')).toEqual(dek);
    expect(after.wrapDataKey(dek, 'sub_1').kekVersion).toBe(2);
    expect(() => after.unwrapDataKey(old.wrapped, old.kekVersion, 'sub_2')).toThrow(SealOpenError);
  });
});

describe('ids a party sees', () => {
  it('count on their own within a millisecond: the step between two notices to one agency does not count notices to others', async () => {
    const { newId } = await import('../../src/crypto/ids.ts');
    const at = new Date('2026-03-02T09:00:00.000Z');
    const step = (a: string, b: string) => {
      const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
      const tail = (id: string) => [...id.slice(4)].reduce((n, c) => n * 32n + BigInt(alphabet.indexOf(c)), 0n);
      return tail(b) - tail(a);
    };
    const first = newId('ntc', at, 'agy_school');
    for (let i = 0; i < 5; i++) newId('ntc', at, 'agy_veilig_thuis');
    const second = newId('ntc', at, 'agy_school');
    const third = newId('ntc', at, 'agy_school');
    expect(second > first).toBe(true); // still in order of creation
    expect(step(first, second)).toBe(step(second, third)); // the five in between left no trace
  });
});
