import { eq } from 'drizzle-orm';
import { meta } from '../../schema/tables.ts';
import type { Db, Tx } from './db.ts';

export function readMeta(db: Db | Tx, key: string): string | undefined {
  return db.select({ value: meta.value }).from(meta).where(eq(meta.key, key)).get()?.value;
}

export function writeMeta(db: Db | Tx, key: string, value: string): void {
  db.insert(meta).values({ key, value }).onConflictDoUpdate({ target: meta.key, set: { value } }).run();
}
