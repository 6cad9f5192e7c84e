import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { KeyRingError } from '../../src/crypto/key-ring.ts';
import { encryptConfiguredDatabase, openRuntime } from '../../src/runtime.ts';
import { DatabaseKeyError, openDatabase, sqliteDb } from '../../src/store/db.ts';
import { createHarness, signalBody, validBsn } from '../support/harness.ts';

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers');
    return true;
  } catch {
    return false;
  }
})();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-enc-'));
  dirs.push(dir);
  return dir;
}
const silent = pino({ level: 'silent' });

describe('page-level encryption of the database file (BETROKKEN_DB_ENCRYPTION=on)', () => {
  // npm install builds the optional package; a machine without it fails here, loudly.
  it('has its driver installed', () => expect(installed).toBe(true));

  it('leaves nothing readable in the file or its WAL, and opens with its key only', async () => {
    const dbFile = path.join(tempDir(), 'index.db');
    const key = new Uint8Array(32).fill(7);
    const h = await createHarness({ dbFile, dbKey: key });
    await h.agency('wij', { districts: ['selwerd'] });
    const agencies = await Promise.all(['school', 'gp'].map((t) => h.agency(t, { name: `Agency ${t} Noorderplantsoen` })));
    for (const a of agencies) {
      const res = await h.call('POST', '/v1/signals', { token: await h.token(a), body: signalBody(validBsn(1)) });
      expect(res.status).toBe(201);
    }
    const pseudonym = h.db.$client.prepare('select pseudonym from subjects').pluck().get() as string;
    expect(fs.statSync(`${dbFile}-wal`).size).toBeGreaterThan(0);
    const bytes = Buffer.concat([fs.readFileSync(dbFile), fs.readFileSync(`${dbFile}-wal`)]);
    for (const plain of ['SQLite format 3', 'Noorderplantsoen', pseudonym, 'signal.register', 'selwerd', 'match.created']) {
      expect(bytes.includes(Buffer.from(plain)), plain).toBe(false);
    }
    await h.store.close();

    expect(() => new Database(dbFile).prepare('select count(*) from signals').get()).toThrow(/not a database/);
    expect(() => openDatabase(dbFile, { key: new Uint8Array(32).fill(8) })).toThrow(DatabaseKeyError);
    const again = openDatabase(dbFile, { key });
    expect(again.$client.prepare('select count(*) from signals').pluck().get()).toBe(2);
    again.$client.close();
  });

  it('makes its key with a new database, and refuses a database that does not match the setting', async () => {
    const dataDir = tempDir();
    const env = (on: boolean) => loadConfig({ BETROKKEN_DATA_DIR: dataDir, BETROKKEN_DB_ENCRYPTION: on ? 'on' : 'off' });
    const deps = await openRuntime(env(true), silent);
    await deps.store.close();
    expect(fs.statSync(path.join(dataDir, 'keys', 'database.key')).mode & 0o777).toBe(0o600);
    await expect(openRuntime(env(false), silent)).rejects.toThrow(DatabaseKeyError);
    await (await openRuntime(env(true), silent)).store.close();

    const plainDir = tempDir();
    await (await openRuntime(loadConfig({ BETROKKEN_DATA_DIR: plainDir }), silent)).store.close();
    await expect(openRuntime(loadConfig({ BETROKKEN_DATA_DIR: plainDir, BETROKKEN_DB_ENCRYPTION: 'on' }), silent)).rejects.toThrow(KeyRingError);
  });

  it('encrypts an existing database in place (`db encrypt`), which then opens only with the setting on', async () => {
    const dataDir = tempDir();
    const plain = loadConfig({ BETROKKEN_DATA_DIR: dataDir });
    const deps = await openRuntime(plain, silent);
    const fingerprint = sqliteDb(deps.store).$client.prepare("select value from meta where key = 'pseudonym_key_fingerprint'").pluck().get() as string;
    await deps.store.close();
    expect(fs.readFileSync(plain.dbFile).includes(Buffer.from(fingerprint))).toBe(true);

    encryptConfiguredDatabase(plain);
    expect(fs.readFileSync(plain.dbFile).includes(Buffer.from(fingerprint))).toBe(false);
    expect(fs.readFileSync(plain.dbFile).includes(Buffer.from('SQLite format 3'))).toBe(false);
    expect(() => encryptConfiguredDatabase(plain)).toThrow(DatabaseKeyError);
    await expect(openRuntime(plain, silent)).rejects.toThrow(DatabaseKeyError);
    const encrypted = await openRuntime(loadConfig({ BETROKKEN_DATA_DIR: dataDir, BETROKKEN_DB_ENCRYPTION: 'on' }), silent);
    expect(sqliteDb(encrypted.store).$client.prepare("select value from meta where key = 'pseudonym_key_fingerprint'").pluck().get()).toBe(fingerprint);
    await encrypted.store.close();
  });
});
