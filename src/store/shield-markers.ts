import { eq } from 'drizzle-orm';
import type { KeyRing } from '../crypto/key-ring.ts';
import { exec, first, type Tx } from './db.ts';

const PURPOSE = 'shield';

/** The marker's key: a keyed digest of the pseudonym, so the row names no subject without the key. */
const tagOf = (keys: KeyRing, pseudonym: string) => keys.keyedDigest(PURPOSE, pseudonym);

async function read(tx: Tx, keys: KeyRing, tag: string): Promise<string[]> {
  const { shieldMarkers } = tx.t;
  const row = await first(tx, tx.db.select({ sealed: shieldMarkers.sealed }).from(shieldMarkers).where(eq(shieldMarkers.tag, tag)));
  return row ? (JSON.parse(new TextDecoder().decode(keys.openRecord(PURPOSE, row.sealed, tag))) as string[]) : [];
}

/**
 * Records, for good, that the agency's involvement with the young person is shielded from the
 * family's access request. One row per young person, resealed when another agency is added.
 */
export async function markShielded(tx: Tx, keys: KeyRing, pseudonym: string, agencyId: string): Promise<void> {
  const { shieldMarkers } = tx.t;
  const tag = tagOf(keys, pseudonym);
  const ids = await read(tx, keys, tag);
  if (ids.includes(agencyId)) return;
  const sealed = Buffer.from(keys.sealRecord(PURPOSE, new TextEncoder().encode(JSON.stringify([...ids, agencyId].sort())), tag));
  await exec(tx, tx.db.insert(shieldMarkers).values({ tag, sealed }).onConflictDoUpdate({ target: shieldMarkers.tag, set: { sealed } }));
}

/** The agencies marked as shielded for the young person (erasure does not remove the marker). */
export async function shieldedByMarker(tx: Tx, keys: KeyRing, pseudonym: string): Promise<Set<string>> {
  return new Set(await read(tx, keys, tagOf(keys, pseudonym)));
}
