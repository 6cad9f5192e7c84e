import { sqliteDb, type Store } from './db.ts';

/**
 * SQLite only. A consistent copy of the live database at `dest` while the service keeps writing.
 * An unencrypted database is copied with SQLite's online backup API, all pages in one step so that
 * concurrent writers cannot make it start over; an encrypted one (SQLite3 Multiple Ciphers refuses
 * a backup into a file without its key) with VACUUM INTO, which writes the copy encrypted under
 * the same key. Either reads one snapshot: what was committed when it began.
 */
export async function copyDatabase(store: Store, dest: string, opts: { encrypted: boolean }): Promise<void> {
  const db = sqliteDb(store);
  if (opts.encrypted) {
    db.$client.prepare('vacuum into ?').run(dest);
    return;
  }
  await db.$client.backup(dest, { progress: ({ remainingPages }) => Math.max(remainingPages, 100) });
}

/** SQLite only: SQLite's own check of every page and index; 'ok' or the problems it found. */
export async function integrityCheck(store: Store): Promise<string[]> {
  return (sqliteDb(store).$client.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
}
