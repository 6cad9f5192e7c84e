import { eq, isNull, like, sql } from 'drizzle-orm';
import { first, many, type Tx } from './db.ts';
import { writeMeta } from './meta.ts';

/** The meta rows that keep a canary per KEK version (see KeyRing.sealCanary). */
const PREFIX = 'kek_canary:';

/** The KEK canaries kept in the database, by version (see KeyRing.sealCanary). */
export async function readKekCanaries(tx: Tx): Promise<Map<number, Uint8Array>> {
  const { meta } = tx.t;
  const rows = await many(tx, tx.db.select({ key: meta.key, value: meta.value }).from(meta).where(like(meta.key, `${PREFIX}%`)));
  return new Map(rows.map((r) => [Number(r.key.slice(PREFIX.length)), new Uint8Array(Buffer.from(r.value, 'base64'))]));
}

/** Keeps the canary of a KEK version; call inside a transaction. */
export async function writeKekCanary(tx: Tx, version: number, sealed: Uint8Array): Promise<void> {
  await writeMeta(tx, `${PREFIX}${version}`, Buffer.from(sealed).toString('base64'));
}

/**
 * The KEK versions that data in the database was sealed under: young people's wrapped data keys,
 * and records sealed by the key ring itself (their first two bytes name the version).
 */
export async function kekVersionsInUse(tx: Tx): Promise<number[]> {
  const { subjects, shieldMarkers, notices } = tx.t;
  const wrapped = await many(tx, tx.db.selectDistinct({ v: subjects.kekVersion }).from(subjects));
  // substr takes the first two bytes of a blob (SQLite) and of a bytea (PostgreSQL) alike.
  const markers = await many(tx, tx.db.selectDistinct({ p: sql<Buffer>`substr(${shieldMarkers.sealed}, 1, 2)` }).from(shieldMarkers));
  const erased = await many(tx, tx.db.selectDistinct({ p: sql<Buffer>`substr(${notices.sealed}, 1, 2)` }).from(notices).where(isNull(notices.subjectId)));
  const prefixes = [...markers, ...erased].map((r) => Buffer.from(r.p)).filter((p) => p.length === 2);
  const versions = [...wrapped.map((r) => r.v), ...prefixes.map((p) => p.readUInt16BE(0))];
  return [...new Set(versions)].sort((a, b) => a - b);
}

/** One young person whose data key is wrapped under that KEK version, to try the KEK on. */
export async function sampleWrappedKey(tx: Tx, version: number): Promise<{ id: string; wrappedKey: Buffer } | undefined> {
  const { subjects } = tx.t;
  return first(tx, tx.db.select({ id: subjects.id, wrappedKey: subjects.wrappedKey }).from(subjects).where(eq(subjects.kekVersion, version)).limit(1));
}
