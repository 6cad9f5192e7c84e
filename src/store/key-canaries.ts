import { sqliteDb, type Tx } from './db.ts';

/**
 * SQLite only: these read and write through the connection's own statements (better-sqlite3), as
 * they did before the store knew drizzle; the PostgreSQL store will need its own.
 */

const PREFIX = 'kek_canary:';

/** The KEK canaries kept in the database, by version (see KeyRing.sealCanary). SQLite only. */
export async function readKekCanaries(tx: Tx): Promise<Map<number, Uint8Array>> {
  const rows = sqliteDb(tx).$client.prepare(`select key, value from meta where key like '${PREFIX}%'`).all() as Array<{ key: string; value: string }>;
  return new Map(rows.map((r) => [Number(r.key.slice(PREFIX.length)), new Uint8Array(Buffer.from(r.value, 'base64'))]));
}

/** Keeps the canary of a KEK version; call inside a transaction. SQLite only. */
export async function writeKekCanary(tx: Tx, version: number, sealed: Uint8Array): Promise<void> {
  sqliteDb(tx)
    .$client.prepare('insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value')
    .run(`${PREFIX}${version}`, Buffer.from(sealed).toString('base64'));
}

/**
 * The KEK versions that data in the database was sealed under: young people's wrapped data keys,
 * and records sealed by the key ring itself (their first two bytes name the version). SQLite only.
 */
export async function kekVersionsInUse(tx: Tx): Promise<number[]> {
  const client = sqliteDb(tx).$client;
  const wrapped = client.prepare('select distinct kek_version as v from subjects').all() as Array<{ v: number }>;
  const prefixes = client
    .prepare(
      `select distinct substr(sealed, 1, 2) as p from shield_markers
       union select distinct substr(sealed, 1, 2) from notices where subject_id is null`,
    )
    .all() as Array<{ p: Buffer }>;
  const versions = [...wrapped.map((r) => r.v), ...prefixes.filter((r) => r.p.length === 2).map((r) => r.p.readUInt16BE(0))];
  return [...new Set(versions)].sort((a, b) => a - b);
}

/** One young person whose data key is wrapped under that KEK version, to try the KEK on. SQLite only. */
export async function sampleWrappedKey(tx: Tx, version: number): Promise<{ id: string; wrappedKey: Buffer } | undefined> {
  return sqliteDb(tx).$client.prepare('select id, wrapped_key as wrappedKey from subjects where kek_version = ? limit 1').get(version) as
    | { id: string; wrappedKey: Buffer }
    | undefined;
}
