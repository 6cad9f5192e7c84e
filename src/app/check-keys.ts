import { fileName, type KeyRing, KeyRingError } from '../crypto/key-ring.ts';
import type { Tx } from '../store/db.ts';
import { kekVersionsInUse, readKekCanaries, sampleWrappedKey, writeKekCanary } from '../store/key-canaries.ts';

const files = (versions: number[]) => versions.map((v) => fileName('kek', v)).join(', ');

/**
 * Checks, before the service listens, that every key-encryption key the database was sealed under
 * is present and is the right one: each KEK version opens the canary sealed when the version was
 * first used. A version without a canary yet (a database from before canaries, or the first start
 * after `keys rotate`) is tried on a young person's wrapped data key where one exists, and its
 * canary is made then (unless `sealNew` is false: a backup is checked without writing to it).
 * Returns the versions whose canary was made now.
 *
 * SQLite only (the canaries are read and written through the connection); with `sealNew`, call it
 * inside a transaction.
 */
export async function checkKeyEncryptionKeys(tx: Tx, keys: KeyRing, keysDir: string, opts: { sealNew: boolean } = { sealNew: true }): Promise<number[]> {
  const canaries = await readKekCanaries(tx);
  const held = keys.kekVersions();
  const needed = [...new Set([...canaries.keys(), ...(await kekVersionsInUse(tx))])].sort((a, b) => a - b);
  const missing = needed.filter((v) => !held.includes(v));
  if (missing.length > 0) {
    throw new KeyRingError(
      `${files(missing)} missing from ${keysDir}: this database was sealed under key-encryption key version ${missing.join(', ')}; ` +
        'restore the keys directory from the backup that belongs to this database (one taken after its last `keys rotate`)',
    );
  }
  const wrong = (v: number) =>
    new KeyRingError(
      `${fileName('kek', v)} in ${keysDir} is not the key-encryption key version ${v} of this database (it does not open what was sealed under it); ` +
        'restore that file from the keys backup that belongs to this database',
    );
  for (const [v, sealed] of canaries) if (!keys.opensCanary(v, sealed)) throw wrong(v);
  const created: number[] = [];
  for (const v of held) {
    if (canaries.has(v)) continue;
    const sample = await sampleWrappedKey(tx, v);
    if (sample) {
      try {
        keys.unwrapDataKey(sample.wrappedKey, v, sample.id);
      } catch {
        throw wrong(v);
      }
    }
    if (!opts.sealNew) continue;
    await writeKekCanary(tx, v, keys.sealCanary(v));
    created.push(v);
  }
  return created;
}
