import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Clock, type Deps, systemClock } from './app/context.ts';
import { checkKeyEncryptionKeys } from './app/check-keys.ts';
import { describeOrphans, findPolicyOrphans, rememberPolicyScopes } from './app/policy-orphans.ts';
import { resealLegacySignals } from './app/reseal-legacy-signals.ts';
import type { Config } from './config.ts';
import { DATABASE_KEY_FILE, databaseKey } from './crypto/database-key.ts';
import { generateKeys, hasKeys, KeyRingError, loadKeyRing } from './crypto/key-ring.ts';
import { createMetrics } from './metrics.ts';
import { loadPolicy } from './policy/load.ts';
import { DatabaseKeyError, encryptDatabase, isStorageError, migrateStore, openStore, type SqliteStore, type Store } from './store/db.ts';
import { asStore, openPgStore } from './store/pg-store.ts';
import { readMeta, writeMeta } from './store/meta.ts';

/** Where the database keeps the fingerprint of the pseudonym key it was made with. */
export const KEY_FINGERPRINT = 'pseudonym_key_fingerprint';

/**
 * Opens what a process of this service needs, in order: policy (fails fast), database and
 * migrations, keys, then sealing what a migration left in the clear for want of them. Keys are
 * generated only for a database that has never had any; a database whose keys are missing or
 * foreign refuses to start.
 */
export async function openRuntime(config: Config, logger: Logger, clock: Clock = systemClock, opts: RuntimeOptions = {}): Promise<Deps> {
  const policy = loadPolicy(config.policyFile);
  checkDataPaths(config);
  if (!config.postgres && checkIndexState(config, opts.create ?? true) === 'new') {
    logger.warn(
      { db: config.dbFile, keysDir: config.keysDir },
      'no database and no keys found: creating a new, empty index with new keys (if you expected an existing index, stop and check BETROKKEN_DATA_DIR)',
    );
  }
  const store = config.postgres ? openConfiguredPgStore(config) : onStorage(config.dbFile, () => openConfiguredStore(config));
  try {
    if (config.postgres) await migratePgStore(store as ReturnType<typeof openConfiguredPgStore>, opts);
    else await onStorage(config.dbFile, () => migrateStore(store));
    const keys = await onStorage(config.keysDir, () => openKeys(store, config.keysDir, logger));
    const resealed = await onStorage(databaseName(config), () => resealLegacySignals(store, keys));
    if (resealed > 0) logger.info({ signals: resealed }, 'sealed the kind, district and informing state that older signals kept in the clear');
    await onStorage(databaseName(config), () => store.probeWrite());
    if (opts.orphans) {
      const orphans = await findPolicyOrphans(store.reader, policy);
      if (orphans.length > 0 && opts.orphans === 'refuse') throw new StartupError(describeOrphans(policy, orphans));
      if (orphans.length > 0) logger.warn({ agencies: orphans }, 'started with --allow-orphans: the policy drops what these agencies use');
      await store.transaction((tx) => rememberPolicyScopes(tx, policy));
    }
    return { store, keys, policy, clock, logger, issuer: config.issuer, metrics: createMetrics(store), webhookAllowedHosts: config.webhook.allowedHosts, contact: config.contact };
  } catch (err) {
    await store.close();
    throw err;
  }
}

export interface RuntimeOptions {
  /** Whether a new, empty index may be made where there is no database and no keys (start, migrate). */
  create?: boolean;
  /**
   * Whether to check that the policy keeps every type and scope that existing agencies use (on
   * start): refuse naming them, or allow with a warning (--allow-orphans). Unset: not checked, so
   * that the operator's commands can still disable such agencies.
   */
  orphans?: 'refuse' | 'allow';
  /**
   * PostgreSQL only: apply the migrations this version has and the database lacks (`migrate`).
   * Otherwise a database whose migrations are behind is refused: with several instances on one
   * database, migrations run once, by the owner role, before the instances start. (A SQLite file
   * has one process and is always migrated at open.)
   */
  migrate?: boolean;
}

/** The PostgreSQL store of BETROKKEN_DATABASE_URL, with the configured pool size. */
export function openConfiguredPgStore(config: Config) {
  if (!config.postgres) throw new Error('BETROKKEN_DATABASE_URL is not set');
  return asStore(openPgStore(config.postgres.url, { max: config.postgres.poolSize }));
}

/** Migrates the PostgreSQL database when asked to (`migrate`), and refuses one that is behind otherwise. */
async function migratePgStore(store: ReturnType<typeof openConfiguredPgStore>, opts: RuntimeOptions): Promise<void> {
  if (opts.migrate) return store.migrate();
  const pending = await store.pendingMigrations();
  if (pending === 0) return;
  throw new StartupError(
    `the PostgreSQL database (BETROKKEN_DATABASE_URL) lacks ${pending} of this version's migrations: run \`betrokken migrate\` once, as the database owner, before starting the instances`,
  );
}

/** The database in messages: the SQLite file, or PostgreSQL's setting (its URL may hold a password). */
export function databaseName(config: Config): string {
  return config.postgres ? 'the PostgreSQL database (BETROKKEN_DATABASE_URL)' : config.dbFile;
}

/** Refuses a command that works on the SQLite file only when PostgreSQL is configured. */
export function sqliteFileOnly(config: Config, command: string, instead: string): void {
  if (config.postgres) throw new StartupError(`${command} works on the SQLite file, and BETROKKEN_DATABASE_URL selects PostgreSQL: ${instead}`);
}

/** Whether there is a database at the configured path (an empty file, left by a failed first start, is none). */
export function hasDatabase(config: Config): boolean {
  return fs.existsSync(config.dbFile) && fs.statSync(config.dbFile).size > 0;
}

/**
 * What the configured paths hold: an index, or nothing (a new index may be made, if `create`).
 * Keys without a database, or (unless `create`) no index at all, refuse with what to do.
 */
function checkIndexState(config: Config, create: boolean): 'existing' | 'new' {
  if (hasDatabase(config)) return 'existing';
  if (hasKeys(config.keysDir) || fs.existsSync(path.join(config.keysDir, DATABASE_KEY_FILE))) {
    throw new StartupError(
      `${config.keysDir} holds keys but there is no database at ${config.dbFile}: restore the database that belongs with them (betrokken restore DIR) or point BETROKKEN_DATA_DIR or BETROKKEN_DB at it; a new index is never made beside existing keys`,
    );
  }
  if (!create) {
    throw new StartupError(`there is no index at ${config.dbFile}: check BETROKKEN_DATA_DIR (or BETROKKEN_DB), or create a new, empty one with \`betrokken migrate\``);
  }
  return 'new';
}

/** The configured database, with its page-level encryption key when BETROKKEN_DB_ENCRYPTION is on. */
export function openConfiguredStore(config: Config): SqliteStore {
  const exists = fs.existsSync(config.dbFile) && fs.statSync(config.dbFile).size > 0;
  if (config.dbEncryption) return openStore(config.dbFile, { key: databaseKey(config.keysDir, { newDatabase: !exists }) });
  try {
    return openStore(config.dbFile);
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

async function openKeys(store: Store, keysDir: string, logger: Logger) {
  const known = await readMeta(store.reader, KEY_FINGERPRINT);
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
  if (known && known !== keys.fingerprint()) {
    throw new KeyRingError(`the keys in ${keysDir} do not belong to this database`);
  }
  const canaries = await store.transaction(async (tx) => {
    if (!known) await writeMeta(tx, KEY_FINGERPRINT, keys.fingerprint());
    return checkKeyEncryptionKeys(tx, keys, keysDir);
  });
  if (canaries.length > 0) logger.info({ kekVersions: canaries }, 'sealed a canary for each new key-encryption key version');
  return keys;
}

/** Thrown when the data directory or the disk cannot serve the service; the message names the path. */
export class StartupError extends Error {
  readonly code = 'ERR_STARTUP';
}

// A file that cannot grow: a full disk, a quota, or a file size limit (SQLite's shared-memory file is grown first).
const NO_SPACE = /^(SQLITE_FULL|SQLITE_IOERR_SHMSIZE|ENOSPC|EDQUOT|EFBIG)/;
const NOT_WRITABLE = /^(SQLITE_READONLY|EROFS|EACCES|EPERM)/;

/** What a storage failure on `where` means, in one line. */
function storageProblem(where: string, code: string): string {
  if (NO_SPACE.test(code)) return `${where}: no room to write (${code}): the disk is full or a file size limit is reached; free space, or move the data directory to a disk with room`;
  if (NOT_WRITABLE.test(code)) return `${where} is not readable and writable by this user (${code}): the service writes its database, WAL and keys there`;
  if (code.startsWith('SQLITE_CANTOPEN')) return `cannot open ${where} (${code}): its directory is missing, unreadable or not writable by this user`;
  return `${where}: input/output error (${code})`;
}

/** Runs `fn`, turning a storage failure (disk full, read-only, unreadable, I/O) into a StartupError naming `where`. */
function onStorage<T>(where: string, fn: () => T): T {
  const rethrow = (err: unknown): never => {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && (isStorageError(err) || NO_SPACE.test(code) || NOT_WRITABLE.test(code))) throw new StartupError(storageProblem(where, code));
    throw err;
  };
  try {
    const result = fn();
    return (result instanceof Promise ? result.catch(rethrow) : result) as T;
  } catch (err) {
    return rethrow(err);
  }
}

/**
 * Checks before opening anything that the database's directory and the keys directory (or the
 * nearest parent that exists, where they are still to be made) are directories this user can read
 * and write, and that an existing database file is readable and writable.
 */
function checkDataPaths(config: Config): void {
  for (const dir of config.postgres ? [config.keysDir] : [path.dirname(config.dbFile), config.keysDir]) {
    let existing = dir;
    while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    if (!fs.statSync(existing).isDirectory()) throw new StartupError(`${existing} is not a directory (the data directory must be one)`);
    try {
      fs.accessSync(existing, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    } catch (err) {
      throw new StartupError(storageProblem(existing, (err as NodeJS.ErrnoException).code ?? 'EACCES'));
    }
  }
  if (!config.postgres && fs.existsSync(config.dbFile)) {
    try {
      fs.accessSync(config.dbFile, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new StartupError(storageProblem(config.dbFile, (err as NodeJS.ErrnoException).code ?? 'EACCES'));
    }
  }
}
