import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { DATABASE_KEY_FILE, databaseKey } from '../crypto/database-key.ts';
import { fileName, loadKeyRing } from '../crypto/key-ring.ts';
import { KEY_FINGERPRINT, openConfiguredStore } from '../runtime.ts';
import { verifyAuditChain } from '../store/audit.ts';
import { copyDatabase, integrityCheck } from '../store/backup.ts';
import { openStore } from '../store/db.ts';
import { kekVersionsInUse, readKekCanaries } from '../store/key-canaries.ts';
import { readMeta } from '../store/meta.ts';
import { checkKeyEncryptionKeys } from './check-keys.ts';

/** Thrown when a backup cannot be made, verified or restored; the message says why. */
export class BackupError extends Error {
  readonly code = 'ERR_BACKUP';
}

export const BACKUP_DB = 'betrokken.db';
export const BACKUP_MANIFEST = 'backup.json';

export interface BackupReport {
  file: string;
  auditRecords: number;
  kekVersions: number[];
  keysDir: string;
  keyFiles: string[];
  encrypted: boolean;
}

/**
 * Checks a database copy against the configured keys directory, writing nothing to it: SQLite's
 * integrity check, the audit chain, the pseudonym key's fingerprint, and a present, right KEK for
 * every version the copy was sealed under.
 */
export async function verifyBackupFile(config: Config, file: string): Promise<BackupReport> {
  const store = openStore(file, config.dbEncryption ? { key: databaseKey(config.keysDir, { newDatabase: false }) } : {});
  const tx = store.reader;
  try {
    const problems = await integrityCheck(store);
    if (problems.join() !== 'ok') throw new BackupError(`${file} fails SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`);
    const chain = await verifyAuditChain(tx);
    if (!chain.ok) throw new BackupError(`${file}: audit chain broken at record ${chain.brokenSeq}: ${chain.reason}`);
    const keys = await loadKeyRing(config.keysDir);
    const known = await readMeta(tx, KEY_FINGERPRINT);
    if (known && known !== keys.fingerprint()) throw new BackupError(`${file} does not belong with the keys in ${config.keysDir} (another pseudonym key)`);
    await checkKeyEncryptionKeys(tx, keys, config.keysDir, { sealNew: false });
    const kekVersions = [...new Set([...(await readKekCanaries(tx)).keys(), ...(await kekVersionsInUse(tx))])].sort((a, b) => a - b);
    const keyFiles = ['pseudonym.key', ...kekVersions.map((v) => fileName('kek', v)), 'signing-*.jwk', ...(config.dbEncryption ? [DATABASE_KEY_FILE] : [])];
    return { file, auditRecords: chain.count, kekVersions, keysDir: config.keysDir, keyFiles, encrypted: config.dbEncryption };
  } finally {
    await store.close();
  }
}

/**
 * Copies the configured database into `dir` (new or empty) while the service runs, verifies the
 * copy, and writes a manifest naming the keys it needs. The keys are not copied: they are backed
 * up apart from the database.
 */
export async function backupDatabase(config: Config, dir: string, at: Date): Promise<BackupReport> {
  if (!fs.existsSync(config.dbFile)) throw new BackupError(`no database at ${config.dbFile}`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new BackupError(`${dir} is not empty: give a new directory for each backup`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, BACKUP_DB);
  const store = openConfiguredStore(config);
  try {
    await copyDatabase(store, file, { encrypted: config.dbEncryption });
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw new BackupError(`copying ${config.dbFile} to ${file} failed: ${(err as Error).message}`);
  } finally {
    await store.close();
  }
  fs.chmodSync(file, 0o600);
  const report = await verifyBackupFile(config, file);
  const manifest = { createdAt: at.toISOString(), source: config.dbFile, ...report, file: BACKUP_DB };
  fs.writeFileSync(path.join(dir, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return report;
}

/**
 * Puts a backup in place as the configured database (service stopped), after verifying it against
 * the configured keys directory. Refuses to overwrite a database that exists: move it aside first.
 */
export async function restoreDatabase(config: Config, dir: string): Promise<BackupReport> {
  const file = path.join(dir, BACKUP_DB);
  if (!fs.existsSync(file)) throw new BackupError(`no backup at ${file}`);
  for (const f of [config.dbFile, `${config.dbFile}-wal`, `${config.dbFile}-shm`]) {
    if (fs.existsSync(f)) throw new BackupError(`${f} exists: stop the service and move the current database aside before restoring`);
  }
  // Verified on a copy beside the target, so that the backup itself is not written to.
  fs.mkdirSync(path.dirname(config.dbFile), { recursive: true, mode: 0o700 });
  const staging = `${config.dbFile}.restoring`;
  fs.copyFileSync(file, staging);
  try {
    const report = await verifyBackupFile(config, staging);
    fs.rmSync(`${staging}-wal`, { force: true });
    fs.rmSync(`${staging}-shm`, { force: true });
    fs.renameSync(staging, config.dbFile);
    return { ...report, file: config.dbFile };
  } catch (err) {
    for (const f of [staging, `${staging}-wal`, `${staging}-shm`]) fs.rmSync(f, { force: true });
    throw err;
  }
}
