import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from '@noble/ciphers/utils.js';
import { KeyRingError } from './key-ring.ts';

export const DATABASE_KEY_FILE = 'database.key';

/**
 * The key of the SQLite file's page-level encryption (BETROKKEN_DB_ENCRYPTION=on): 32 random
 * bytes, base64, in the keys directory beside the others and never in the database. It is made
 * only with a new database; an existing database without it was made unencrypted, or lost its key.
 */
export function databaseKey(keysDir: string, opts: { newDatabase: boolean }): Uint8Array {
  const file = path.join(keysDir, DATABASE_KEY_FILE);
  if (!fs.existsSync(file)) {
    if (!opts.newDatabase) {
      throw new KeyRingError(
        `BETROKKEN_DB_ENCRYPTION is on but ${file} is missing: the database was made without encryption, or its key must be restored from backup`,
      );
    }
    fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, Buffer.from(randomBytes(32)).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new KeyRingError(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unknown error'}`);
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new KeyRingError(`key file ${file} does not hold a 32-byte base64 key`);
  return new Uint8Array(key);
}
