import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Clock, type Deps, systemClock } from './app/context.ts';
import { resealLegacySignals } from './app/reseal-legacy-signals.ts';
import type { Config } from './config.ts';
import { DATABASE_KEY_FILE, databaseKey } from './crypto/database-key.ts';
import { generateKeys, hasKeys, KeyRingError, loadKeyRing } from './crypto/key-ring.ts';
import { createMetrics } from './metrics.ts';
import { loadPolicy } from './policy/load.ts';
import { DatabaseKeyError, type Db, encryptDatabase, migrateDatabase, openDatabase } from './store/db.ts';
import { readMeta, writeMeta } from './store/meta.ts';

const KEY_FINGERPRINT = 'pseudonym_key_fingerprint';

/**
 * Opens what a process of this service needs, in order: policy (fails fast), database and
 * migrations, keys, then sealing what a migration left in the clear for want of them. Keys are
 * generated only for a database that has never had any; a database whose keys are missing or
 * foreign refuses to start.
 */
export async function openRuntime(config: Config, logger: Logger, clock: Clock = systemClock): Promise<Deps> {
  const policy = loadPolicy(config.policyFile);
  const db = openConfiguredDatabase(config);
  try {
    migrateDatabase(db);
    const keys = await openKeys(db, config.keysDir, logger);
    const resealed = resealLegacySignals(db, keys);
    if (resealed > 0) logger.info({ signals: resealed }, 'sealed the kind, district and informing state that older signals kept in the clear');
    return { db, keys, policy, clock, logger, issuer: config.issuer, metrics: createMetrics(db), contact: config.contact };
  } catch (err) {
    db.$client.close();
    throw err;
  }
}

/** The configured database, with its page-level encryption key when BETROKKEN_DB_ENCRYPTION is on. */
export function openConfiguredDatabase(config: Config): Db {
  const exists = fs.existsSync(config.dbFile) && fs.statSync(config.dbFile).size > 0;
  if (config.dbEncryption) return openDatabase(config.dbFile, { key: databaseKey(config.keysDir, { newDatabase: !exists }) });
  try {
    return openDatabase(config.dbFile);
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_NOTADB' && fs.existsSync(path.join(config.keysDir, DATABASE_KEY_FILE))) {
      throw new DatabaseKeyError(`the database ${config.dbFile} is encrypted: start with BETROKKEN_DB_ENCRYPTION=on`);
    }
    throw err;
  }
}

/**
 * Encrypts the configured database, made without BETROKKEN_DB_ENCRYPTION, in place with a new
 * database key; the service must be stopped. The key file is written first and removed again if
 * encrypting fails, so that the database is never left encrypted under a key nobody kept.
 */
export function encryptConfiguredDatabase(config: Config): string {
  const keyFile = path.join(config.keysDir, DATABASE_KEY_FILE);
  if (fs.existsSync(keyFile)) throw new DatabaseKeyError(`${keyFile} exists: the database is encrypted already`);
  if (!fs.existsSync(config.dbFile)) throw new DatabaseKeyError(`no database at ${config.dbFile}`);
  const key = databaseKey(config.keysDir, { newDatabase: true });
  try {
    encryptDatabase(config.dbFile, key);
  } catch (err) {
    fs.rmSync(keyFile, { force: true });
    throw err;
  }
  return keyFile;
}

async function openKeys(db: Db, keysDir: string, logger: Logger) {
  const known = readMeta(db, KEY_FINGERPRINT);
  if (!hasKeys(keysDir)) {
    if (known) {
      throw new KeyRingError(
        `the keys for this database are missing from ${keysDir}; restore them from backup (new keys cannot read existing data)`,
      );
    }
    await generateKeys(keysDir);
    logger.info({ keysDir }, 'generated new keys (first start); back them up apart from the database');
  }
  const keys = await loadKeyRing(keysDir);
  if (!known) writeMeta(db, KEY_FINGERPRINT, keys.fingerprint());
  else if (known !== keys.fingerprint()) {
    throw new KeyRingError(`the keys in ${keysDir} do not belong to this database`);
  }
  return keys;
}
