import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { KeyRingError, loadKeyRing, rotateKeys } from '../../src/crypto/key-ring.ts';
import { openRuntime } from '../../src/runtime.ts';
import { sqliteDb } from '../../src/store/db.ts';
import { readKekCanaries } from '../../src/store/key-canaries.ts';
import { findOrCreateSubject } from '../../src/store/subjects.ts';
import { cli, freePort } from '../support/process.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dataDir(): { dir: string; env: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-canary-'));
  dirs.push(dir);
  return { dir, env: { BETROKKEN_DATA_DIR: dir, LOG_LEVEL: 'silent' } };
}

const open = (env: Record<string, string>) => openRuntime(loadConfig(env), pino({ level: 'silent' }));

/** Opens the runtime, adds a young person sealed under the current KEK, and closes it. */
async function withSubject(env: Record<string, string>, pseudonym: string): Promise<void> {
  const deps = await open(env);
  await deps.store.transaction(async (tx) => findOrCreateSubject(tx, deps.keys, pseudonym, new Date()));
  await deps.store.close();
}

function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

describe('key-encryption keys are checked before the service listens', { timeout: 60_000 }, () => {
  it('seals a canary for the first KEK, and one for each version keys rotate adds', async () => {
    const { dir, env } = dataDir();
    const deps = await open(env);
    expect([...(await readKekCanaries(deps.store.reader)).keys()]).toEqual([1]);
    await deps.store.close();
    const rotated = cli(['keys', 'rotate'], env);
    expect(rotated.code).toBe(0);
    const again = await open(env);
    expect([...(await readKekCanaries(again.store.reader)).keys()].sort()).toEqual([1, 2]);
    await again.store.close();
    expect(fs.existsSync(path.join(dir, 'keys', 'kek-0002.key'))).toBe(true);
  });

  it('keys from before a rotation with a database from after it: stops before listening, naming the missing version', async () => {
    const { dir, env } = dataDir();
    await withSubject(env, 'a'.repeat(64));
    const before = path.join(dir, 'keys-before');
    copyDir(path.join(dir, 'keys'), before);
    expect(cli(['keys', 'rotate'], env).code).toBe(0);
    await withSubject(env, 'b'.repeat(64));

    const oldKeys = { ...env, BETROKKEN_KEYS_DIR: before };
    await expect(open(oldKeys)).rejects.toThrow(KeyRingError);
    await expect(open(oldKeys)).rejects.toThrow(/kek-0002\.key missing from .*restore the keys directory/);
    const start = cli(['start'], { ...oldKeys, PORT: String(await freePort()), METRICS_PORT: String(await freePort()) });
    expect(start.code).toBe(1);
    expect(start.stderr.trim().split('\n')).toHaveLength(1);
    expect(start.stderr).toContain('kek-0002.key');
    expect(start.stdout).not.toContain('listening');
  });

  it('a wrong KEK (right file name, other bytes) is refused by its canary', async () => {
    const { dir, env } = dataDir();
    await (await open(env)).store.close();
    fs.writeFileSync(path.join(dir, 'keys', 'kek-0001.key'), Buffer.alloc(32, 7).toString('base64'));
    await expect(open(env)).rejects.toThrow(/kek-0001\.key in .* is not the key-encryption key version 1 of this database/);
    const res = cli(['migrate'], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^betrokken: kek-0001\.key in /);
  });

  it('a database from before canaries: a wrong KEK is caught on a wrapped data key; the right one gets its canary', async () => {
    const { dir, env } = dataDir();
    await withSubject(env, 'c'.repeat(64));
    const dropCanaries = async () => {
      const deps = await open(env);
      sqliteDb(deps.store).$client.prepare("delete from meta where key like 'kek_canary:%'").run();
      await deps.store.close();
    };
    await dropCanaries();
    const right = fs.readFileSync(path.join(dir, 'keys', 'kek-0001.key'));
    fs.writeFileSync(path.join(dir, 'keys', 'kek-0001.key'), Buffer.alloc(32, 9).toString('base64'));
    // The canary was dropped after the last open, so only the wrapped data key can tell.
    await expect(open(env)).rejects.toThrow(/kek-0001\.key .* is not the key-encryption key version 1/);
    fs.writeFileSync(path.join(dir, 'keys', 'kek-0001.key'), right);
    const deps = await open(env);
    expect([...(await readKekCanaries(deps.store.reader)).keys()]).toEqual([1]);
    await deps.store.close();
  });

  it('a rotated ring still opens the canary of every older version', async () => {
    const { dir, env } = dataDir();
    await (await open(env)).store.close();
    await rotateKeys(path.join(dir, 'keys'));
    const ring = await loadKeyRing(path.join(dir, 'keys'));
    expect(ring.kekVersions()).toEqual([1, 2]);
    expect(ring.opensCanary(1, ring.sealCanary(1))).toBe(true);
    expect(ring.opensCanary(2, ring.sealCanary(1))).toBe(false);
    expect(ring.opensCanary(3, ring.sealCanary(2))).toBe(false);
  });
});
